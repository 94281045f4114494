package titan_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// Shaky is a service the tests make fail, block or lag.
type Shaky struct {
	name     string
	calls    atomic.Int64
	failing  atomic.Bool
	inflight atomic.Int64
	hold     chan struct{} // Wait and Take block until it is closed
}

func newShaky(name string) *Shaky { return &Shaky{name: name, hold: make(chan struct{})} }

// Put fails unavailable while failing is set.
func (s *Shaky) Put(context.Context, string) (string, error) {
	s.calls.Add(1)
	if s.failing.Load() {
		return "", netron.Errorf(netron.CodeUnavailable, "%s is down", s.name)
	}
	return s.name, nil
}

// Wait blocks until hold is closed; it is idempotent.
func (s *Shaky) Wait(ctx context.Context) (string, error) { return s.Take(ctx) }

// Take is Wait, not idempotent.
func (s *Shaky) Take(ctx context.Context) (string, error) {
	s.calls.Add(1)
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	select {
	case <-s.hold:
		return s.name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Slow answers after ms milliseconds.
func (s *Shaky) Slow(ctx context.Context, ms int) (string, error) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return s.name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

type ShakyClient struct {
	Put  func(ctx context.Context, key string) (string, error)
	Wait func(ctx context.Context) (string, error)
	Take func(ctx context.Context) (string, error)
	Slow func(ctx context.Context, ms int) (string, error)
}

// shakyService declares shaky@1.0.0 served by s, wait idempotent.
func shakyService(s *Shaky) titan.Option {
	return titan.Service("shaky", "1.0.0", func() *Shaky { return s }, titan.Method("wait", titan.Idempotent()))
}

// serveShaky starts an app serving s on TCP and returns its Netron.
func serveShaky(t *testing.T, s *Shaky, opts ...titan.Option) *netron.Netron {
	t.Helper()
	var n *netron.Netron
	t.Cleanup(func() {
		select {
		case <-s.hold:
		default:
			close(s.hold)
		}
	})
	startApp(t, append([]titan.Option{titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0", "logger.level=error")),
		shakyService(s), titan.Invoke(func(x *netron.Netron) { n = x })}, opts...)...)
	return n
}

// breakerLog is a resilience.StateObserver that keeps what it is told.
type breakerLog struct {
	mu  sync.Mutex
	all []string
}

func (b *breakerLog) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.all, ", ")
}

func (b *breakerLog) observer() resilience.StateObserver {
	return func(c resilience.StateChange) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.all = append(b.all, fmt.Sprintf("%s %s>%s", c.Breaker, c.From, c.To))
	}
}

// A remote's policies: a bulkhead of 4 refuses the 5th call in flight; a
// method's timeout bounds it; the remote's breaker opens after its
// threshold, fails fast naming itself, half-opens after its delay and
// closes on a success, and the app's StateObservers are told.
func TestRemotePolicies(t *testing.T) {
	t.Parallel()
	s := newShaky("a")
	addr := serveShaky(t, s).Addrs()[0]
	var bl breakerLog
	var c ShakyClient
	startApp(t, titan.WithConfig(quiet("logger.level=error")),
		titan.Remote[ShakyClient]("shaky@^1", titan.At(addr),
			titan.Bulkhead(4),
			titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 2, Delay: 200 * time.Millisecond}),
			// 500ms, not less: the quick call below (1 ms of work) must
			// come back within it on a loaded machine.
			titan.ForMethod("slow", titan.Timeout(500*time.Millisecond)),
		),
		titan.Provide(resilience.AsStateObserver(bl.observer)),
		titan.Invoke(func(x ShakyClient) { c = x }))
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Wait(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	for s.inflight.Load() != 4 {
		time.Sleep(time.Millisecond)
	}
	_, err := c.Wait(ctx)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), `bulkhead "shaky@^1" is full (4 calls in flight): shaky@^1.wait not sent`) {
		t.Fatalf("the 5th call in flight: %v", err)
	}
	if s.calls.Load() != 4 {
		t.Fatalf("the server saw %d calls, want 4", s.calls.Load())
	}
	close(s.hold)
	wg.Wait()

	if _, err := c.Slow(ctx, 5000); err == nil || err.Error() != "deadline_exceeded: shaky@^1.slow: no answer within its timeout of 500ms" {
		t.Fatalf("slow under its 500ms timeout: %v", err)
	}
	if v, err := c.Slow(ctx, 1); err != nil || v != "a" {
		t.Fatalf("a quick slow: %q, %v", v, err)
	}

	s.failing.Store(true)
	for range 2 {
		if _, err := c.Put(ctx, "k"); err == nil || err.Error() != "unavailable: a is down" {
			t.Fatalf("a failing put: %v", err)
		}
	}
	sent := s.calls.Load()
	_, err = c.Put(ctx, "k")
	if !errors.Is(err, resilience.ErrCircuitOpen) || !strings.HasPrefix(err.Error(), `unavailable: circuit breaker "shaky@^1" is open: shaky@^1.put not sent; retry after `) || s.calls.Load() != sent {
		t.Fatalf("a call after 2 failures: %v (%d calls reached the server, %d before)", err, s.calls.Load(), sent)
	}
	s.failing.Store(false)
	time.Sleep(250 * time.Millisecond)
	if v, err := c.Put(ctx, "k"); err != nil || v != "a" {
		t.Fatalf("the probe after the delay: %q, %v", v, err)
	}
	if want := "shaky@^1 closed>open, shaky@^1 open>half-open, shaky@^1 half-open>closed"; bl.String() != want {
		t.Fatalf("the observer was told %q\nwant %q", bl.String(), want)
	}
}

// Two instances found through discovery, one of which dies with a call in
// flight: titan.Remote's default retry sends the idempotent call to the
// other instance, and does not send again a call of a method not marked
// idempotent.
func TestRemoteFailover(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		call   func(ShakyClient) (string, error)
	}{
		{"wait", func(c ShakyClient) (string, error) { return c.Wait(context.Background()) }},
		{"take", func(c ShakyClient) (string, error) { return c.Take(context.Background()) }},
	} {
		t.Run(tc.method, func(t *testing.T) {
			reg := memory.New(time.Second)
			shared := titan.Decorate(func(discovery.Registry) discovery.Registry { return reg })
			victim, survivor := newShaky("victim"), newShaky("survivor")
			close(survivor.hold)
			vn := serveShaky(t, victim, shared)
			serveShaky(t, survivor, shared)
			var c ShakyClient
			var cn *netron.Netron
			startApp(t, titan.WithConfig(quiet("logger.level=error")), shared,
				titan.Remote[ShakyClient]("shaky@^1"), titan.Invoke(func(x ShakyClient, n *netron.Netron) { c, cn = x, n }))
			// The client connects to the instances after its start: on a
			// loaded machine a first call could find none connected yet.
			for deadline := time.Now().Add(10 * time.Second); connected(cn) < 2; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the client is connected to %d of the 2 instances after 10s", connected(cn))
				}
			}

			type result struct {
				v   string
				err error
			}
			var (
				r           result
				survivorHad int64
			)
		try:
			for i := 0; ; i++ {
				if i == 20 {
					t.Fatal("no call reached the victim in 20 tries")
				}
				before := victim.calls.Load()
				done := make(chan result, 1)
				go func() {
					v, err := tc.call(c)
					done <- result{v, err}
				}()
				for victim.calls.Load() == before {
					select {
					case r := <-done: // the survivor answered
						if r.err != nil {
							t.Fatal(r.err)
						}
						continue try
					case <-time.After(time.Millisecond):
					}
				}
				survivorHad = survivor.calls.Load()
				cut, cancel := context.WithCancel(context.Background())
				cancel()
				_ = vn.Stop(cut) // connections cut with the call in flight
				r = <-done
				break
			}
			if tc.method == "wait" {
				if r.err != nil || r.v != "survivor" {
					t.Fatalf("an idempotent call whose instance died: %q, %v; want the survivor's answer", r.v, r.err)
				}
				return
			}
			if netron.CodeOf(r.err) != netron.CodeUnavailable || errors.Is(r.err, netron.ErrNotRun) || survivor.calls.Load() != survivorHad {
				t.Fatalf("a call not marked idempotent whose instance died: %q, %v; the survivor saw %d calls, %d before; want unavailable, not sent again",
					r.v, r.err, survivor.calls.Load(), survivorHad)
			}
		})
	}
}

// connected counts the peers of n that are connected.
func connected(n *netron.Netron) int {
	k := 0
	for _, p := range n.Peers() {
		if p.Connected() {
			k++
		}
	}
	return k
}

// The policies' options say what they are, and bad values or a method the
// client lacks fail start-up naming the option.
func TestRemotePolicyOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  titan.RemoteOption
		want string
	}{
		{titan.Retry(titan.RetryConfig{}), "Retry()"},
		{titan.Retry(titan.RetryConfig{Attempts: 5, AnyMethod: true}), "Retry(Attempts: 5, AnyMethod: true)"},
		{titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 5, Of: 10, Delay: time.Second}), "CircuitBreaker(Failures: 5, Of: 10, Delay: 1s)"},
		{titan.Bulkhead(4), "Bulkhead(4)"},
		{titan.BulkheadWait(4, time.Second), "BulkheadWait(4, 1s)"},
		{titan.Timeout(time.Second), "Timeout(1s)"},
		{titan.ForMethod("put", titan.Timeout(time.Second), titan.Bulkhead(1)), `ForMethod("put", Timeout(1s), Bulkhead(1))`},
	} {
		if got := tc.opt.String(); got != tc.want {
			t.Errorf("String() = %s, want %s", got, tc.want)
		}
	}
	for _, tc := range []struct {
		opt  titan.RemoteOption
		want string
	}{
		{titan.Bulkhead(0), "Bulkhead(0): Max 0: want 1 or more"},
		{titan.Timeout(0), "Timeout(0s): want a positive duration"},
		{titan.Retry(titan.RetryConfig{Attempts: -1}), "Retry(Attempts: -1): Attempts -1: want 1 or more (0: 3)"},
		{titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 5, Of: 2}), "Of 2: want at least Failures (5)"},
		{titan.ForMethod("nope", titan.Timeout(time.Second)), `ForMethod("nope", Timeout(1s)): titan_test.ShakyClient has no field for a method "nope" (its methods: put, wait, take, slow)`},
		{titan.ForMethod("put", titan.BulkheadWait(2, -time.Second)), `ForMethod("put", BulkheadWait(2, -1s)): BulkheadWait(2, -1s): MaxWait -1s: want 0`},
	} {
		err := titan.New(titan.WithConfig(quiet()), titan.Remote[ShakyClient]("shaky@^1", titan.At("tcp://127.0.0.1:1"), tc.opt)).Err()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v\nwant it to contain %s", tc.opt, err, tc.want)
		}
	}
}

// TestNegativeTimeout: a negative Timeout removes the remote's timeout
// for one method, in ForMethod; given to the remote itself, where there
// is nothing to remove, it is a bad value, refused as Timeout(0) is,
// not a remote silently left without a timeout.
func TestNegativeTimeout(t *testing.T) {
	t.Parallel()
	build := func(opts ...titan.ClientOption) error {
		return titan.New(titan.WithConfig(quiet()), titan.Remote[ShakyClient]("shaky@^1", append([]titan.ClientOption{titan.At("tcp://127.0.0.1:1")}, opts...)...)).Err()
	}
	if err := build(titan.Timeout(time.Second), titan.ForMethod("put", titan.Timeout(-time.Second))); err != nil {
		t.Errorf("ForMethod with a negative Timeout: %v", err)
	}
	if err := build(titan.Timeout(-time.Second)); err == nil || !strings.Contains(err.Error(), "Timeout(-1s): ") {
		t.Errorf("a negative Timeout of the remote: %v; want an error naming it", err)
	}
}
