package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/resilience"
)

// resolverOf resolves every target to its addresses.
type resolverOf []string

func (r resolverOf) Resolve(context.Context, netron.Target) ([]string, error) { return r, nil }

// FlakyClient is flaky's client.
type FlakyClient struct {
	Get  func(ctx context.Context, key string) (string, error)
	Wait func(ctx context.Context) (string, error)
	Take func(ctx context.Context) (string, error)
}

// pair starts two instances of flaky, a victim and a survivor (which
// answers Wait and Take at once), and a pool over both whose calls go
// through ics.
func pair(t *testing.T, ics ...netron.Interceptor) (victim *netron.Netron, v, s *Flaky, c FlakyClient) {
	t.Helper()
	v, s = &Flaky{name: "victim"}, &Flaky{name: "survivor", hold: make(chan struct{})}
	close(s.hold)
	victim, va := serve(t, v)
	_, sa := serve(t, s)
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	pool, err := client.NewPool("flaky@^1", resolverOf{va, sa}, netron.WithInterceptors(ics...))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Bind(&c); err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return victim, v, s, c
}

// onVictim makes calls of call until one is held by the victim (the
// survivor answers the others), then runs kill and returns that call's
// outcome.
func onVictim(t *testing.T, v *Flaky, call func() (string, error), kill func()) (string, error) {
	t.Helper()
	type result struct {
		s   string
		err error
	}
try:
	for range 20 {
		before := v.calls.Load()
		done := make(chan result, 1)
		go func() {
			s, err := call()
			done <- result{s, err}
		}()
		for v.calls.Load() == before {
			select {
			case r := <-done:
				if r.err != nil {
					t.Fatalf("a call the survivor answered: %v", r.err)
				}
				continue try
			case <-time.After(time.Millisecond):
			}
		}
		kill()
		r := <-done
		return r.s, r.err
	}
	t.Fatal("no call reached the victim in 20 tries")
	return "", nil
}

// kill stops n abruptly: its connections are cut with calls in flight.
func kill(n *netron.Netron) func() {
	return func() {
		cut, cancel := context.WithCancel(context.Background())
		cancel()
		_ = n.Stop(cut)
	}
}

// Two instances behind a pool with the default retry: an idempotent call
// in flight on an instance that dies goes to the other one and succeeds;
// a call of a method not marked idempotent is not sent again (it may have
// run) and fails unavailable.
func TestRetrySurvivesADeadInstance(t *testing.T) {
	t.Run("idempotent", func(t *testing.T) {
		victim, v, s, c := pair(t, resilience.Retry(resilience.RetryConfig{}))
		if _, err := c.Get(t.Context(), "warm"); err != nil { // the retry learns which methods are idempotent
			t.Fatal(err)
		}
		got, err := onVictim(t, v, func() (string, error) { return c.Wait(context.Background()) }, kill(victim))
		if err != nil || got != "survivor" {
			t.Fatalf("an idempotent call whose instance died: %q, %v; want the survivor's answer", got, err)
		}
		if s.calls.Load() == 0 {
			t.Fatal("the survivor saw no call")
		}
	})
	t.Run("not idempotent", func(t *testing.T) {
		victim, v, s, c := pair(t, resilience.Retry(resilience.RetryConfig{}))
		if _, err := c.Get(t.Context(), "warm"); err != nil {
			t.Fatal(err)
		}
		var before int64
		got, err := onVictim(t, v, func() (string, error) { return c.Take(context.Background()) }, func() {
			before = s.calls.Load()
			kill(victim)()
		})
		if netron.CodeOf(err) != netron.CodeUnavailable || errors.Is(err, netron.ErrNotRun) {
			t.Fatalf("a call of a method not marked idempotent whose instance died: %q, %v; want unavailable, not ErrNotRun", got, err)
		}
		if s.calls.Load() != before {
			t.Fatalf("the survivor got the call again (%d calls, %d before the kill)", s.calls.Load(), before)
		}
	})
	t.Run("no retry", func(t *testing.T) {
		victim, v, _, c := pair(t)
		_, err := onVictim(t, v, func() (string, error) { return c.Wait(context.Background()) }, kill(victim))
		if netron.CodeOf(err) != netron.CodeUnavailable {
			t.Fatalf("a pool without a retry: %v, want the lost connection's unavailable", err)
		}
	})
}

// A retry never outlives the call's deadline: when the next attempt could
// not start before it, the last failure comes back at once.
func TestRetryHonoursTheDeadline(t *testing.T) {
	f := &Flaky{name: "flaky"}
	f.failing.Store(true)
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Retry(resilience.RetryConfig{Backoff: 200 * time.Millisecond, Attempts: 5, AnyMethod: true}))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := netron.CallUnary[string](ctx, p, "flaky@^1", "put", "k")
	if took := time.Since(start); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 1 || took > 80*time.Millisecond {
		t.Fatalf("a retry whose backoff passes the deadline: %v after %v, %d attempts; want the first failure at once", err, took, f.calls.Load())
	}

	f.calls.Store(0)
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p = dial(t, addr, resilience.Retry(resilience.RetryConfig{Backoff: 20 * time.Millisecond, Attempts: 4, AnyMethod: true}))
	start = time.Now()
	_, err = netron.CallUnary[string](ctx, p, "flaky@^1", "put", "k")
	if took := time.Since(start); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 4 || took < 100*time.Millisecond {
		t.Fatalf("4 attempts 20, 40, 80ms apart (±20%%): %v after %v, %d attempts", err, took, f.calls.Load())
	}
}

// On one peer: a failed call of an idempotent method is sent again (the
// retry learns which methods are from the definition); one of another
// method is not, unless AnyMethod; what the caller cancels is not.
func TestRetryIdempotentOnly(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond}))
	if _, err := get(p, "get", "warm"); err != nil {
		t.Fatal(err)
	}
	f.failing.Store(true)
	for _, tc := range []struct {
		method string
		calls  int64
	}{{"get", 3}, {"put", 1}} {
		f.calls.Store(0)
		if _, err := get(p, tc.method, "k"); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != tc.calls {
			t.Errorf("%s on a failing server: %v after %d attempts, want unavailable after %d", tc.method, err, f.calls.Load(), tc.calls)
		}
	}
	f.calls.Store(0)
	any := dial(t, addr, resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond, AnyMethod: true}))
	if _, err := get(any, "put", "k"); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 3 {
		t.Errorf("put with AnyMethod: %v after %d attempts, want 3", err, f.calls.Load())
	}
}

// A retry never sends again what a breaker refused: the breaker that a
// failure opened ends the retries at once.
func TestRetryStopsAtAnOpenBreaker(t *testing.T) {
	f := &Flaky{name: "flaky"}
	f.failing.Store(true)
	_, addr := serve(t, f)
	p := dial(t, addr,
		resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond, AnyMethod: true}),
		resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Failures: 1, Delay: time.Minute}))
	_, err := get(p, "put", "k")
	if !errors.Is(err, resilience.ErrCircuitOpen) || f.calls.Load() != 1 {
		t.Fatalf("%v after %d calls reached the server; want the breaker's refusal after 1", err, f.calls.Load())
	}
}

// A retry whose query of a service's definition panicked asks again after
// the next success, rather than never learning which methods are
// idempotent.
func TestRetryLearnsAfterADefinitionThatPanicked(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	d := &door{peer: dial(t, addr)}
	d.panics.Store(true)
	p := dial(t, openDoor(t, d), resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond}))

	recovered(t, func() { _, _ = get(p, "get", "warm") }) // the retry asks for the definition
	d.panics.Store(false)
	if _, err := get(p, "get", "warm"); err != nil {
		t.Fatal(err)
	}
	f.failing.Store(true)
	f.calls.Store(0)
	if _, err := get(p, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 3 {
		t.Fatalf("an idempotent method on a failing server: %v after %d attempts, want unavailable after 3", err, f.calls.Load())
	}
}

// An instance that refuses to give its definition is not asked again
// after every success (a second request for each call), only once in a
// while; the methods are then taken as not idempotent.
func TestRetryDoesNotAskARefusedDefinitionAfterEverySuccess(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	d := &door{peer: dial(t, addr)}
	d.refuses.Store(true)
	p := dial(t, openDoor(t, d), resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond}))
	for range 20 {
		if _, err := get(p, "get", "warm"); err != nil {
			t.Fatal(err)
		}
	}
	if n := d.asked.Load(); n != 1 {
		t.Fatalf("the refused definition was asked for %d times in 20 successful calls, want once", n)
	}
	f.failing.Store(true)
	f.calls.Store(0)
	if _, err := get(p, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 1 {
		t.Fatalf("with no definition: %v after %d attempts, want unavailable after 1 (not known to be idempotent)", err, f.calls.Load())
	}
}

// doorScheme is the scheme of the doors openDoor opens.
const doorScheme = "resilience-door"

func init() { transport.Register(doorTransport{}) }

// doors are the open doors by address.
var doors sync.Map

// openDoor makes d reachable at the address it returns until the test
// ends.
func openDoor(t *testing.T, d *door) string {
	addr := fmt.Sprintf("%s://%s", doorScheme, t.Name())
	doors.Store(addr, d)
	t.Cleanup(func() { doors.Delete(addr) })
	return addr
}

// doorTransport dials the doors: calls, not packets, as http:// does.
type doorTransport struct{}

func (doorTransport) Name() string                         { return doorScheme }
func (doorTransport) Schemes() []string                    { return []string{doorScheme} }
func (doorTransport) Capabilities() transport.Capabilities { return transport.Capabilities{} }

func (doorTransport) Listen(context.Context, *url.URL, transport.Options) (transport.Listener, error) {
	return nil, errors.New("a door is opened by openDoor")
}

func (doorTransport) Dial(context.Context, *url.URL, transport.Options) (transport.Conn, error) {
	return nil, errors.New("a door carries calls: dial it with netron.Dial")
}

func (doorTransport) DialCalls(_ context.Context, addr string, _ netron.CallDialOptions) (netron.CallConn, error) {
	d, ok := doors.Load(addr)
	if !ok {
		return nil, fmt.Errorf("no door at %s", addr)
	}
	return d.(*door), nil
}

// door is a [netron.CallConn] that passes unary calls and definitions to
// peer, and panics in place of the definition while panics is set.
type door struct {
	peer    *netron.Peer
	panics  atomic.Bool
	refuses atomic.Bool  // the definition is refused (permission_denied)
	asked   atomic.Int64 // the definitions asked for
}

func (d *door) Invoke(ctx context.Context, target, method string, args []any) (protocol.RawValue, error) {
	v, err := netron.CallUnary[string](ctx, d.peer, target, method, args...)
	if err != nil {
		return nil, err
	}
	return protocol.Marshal(v)
}

func (d *door) Stream(context.Context, string, string, []any) (netron.ItemReader, error) {
	return nil, netron.Errorf(netron.CodeUnimplemented, "no streams through a door")
}

func (d *door) Definition(ctx context.Context, target string) (*protocol.Definition, error) {
	d.asked.Add(1)
	if d.refuses.Load() {
		return nil, netron.Errorf(netron.CodePermissionDenied, "definitions are not shown to this caller")
	}
	if d.panics.Load() {
		panic("door: definition")
	}
	return d.peer.Definition(ctx, target)
}

func (d *door) Services(context.Context) ([]netron.ServiceInfo, error) { return nil, nil }
func (d *door) RemoteAddr() string                                     { return doorScheme }
func (d *door) Close() error                                           { return nil }

// MaxBackoff bounds every wait, also when Backoff is left to its default
// (25ms): a MaxBackoff of 1ms is not raised to the default Backoff.
func TestRetryMaxBackoffBelowTheDefaultBackoff(t *testing.T) {
	f := &Flaky{name: "flaky"}
	f.failing.Store(true)
	_, addr := serve(t, f)
	cfg := resilience.RetryConfig{MaxBackoff: time.Millisecond, Jitter: -1, Attempts: 10, AnyMethod: true}
	if err := cfg.Check(); err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	p := dial(t, addr, resilience.Retry(cfg))
	start := time.Now()
	_, err := get(p, "put", "k")
	// 9 waits of at most 1ms; at least 25ms each (225ms of waiting alone)
	// when MaxBackoff is ignored: the bound leaves a loaded machine all
	// the rest (TestRetryDefaultBackoffWithinMaxBackoff checks the wait
	// itself).
	if took := time.Since(start); netron.CodeOf(err) != netron.CodeUnavailable || f.calls.Load() != 10 || took >= 225*time.Millisecond {
		t.Fatalf("10 attempts at most 1ms apart: %v after %v, %d attempts", err, took, f.calls.Load())
	}
}

// afterAttempt is a calling-side interceptor, below a retry, that runs
// f after each attempt of a unary call returns (n counts from 1).
type afterAttempt struct {
	n atomic.Int64
	f func(n int64, err error)
}

func (a *afterAttempt) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		res, err := next(ctx, call)
		if call.IsClient() {
			a.f(a.n.Add(1), err)
		}
		return res, err
	}
}

func (*afterAttempt) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

func (*afterAttempt) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// The answer of the attempt a retry sent again is the call's, even when
// the caller's context ends as it comes back: an attempt that succeeded
// (a put that ran) is not reported as failed, nor one that failed as
// never sent again.
func TestRetryKeepsTheAnswerOfTheLastAttempt(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	for _, tc := range []struct {
		name    string
		failing bool // the second attempt fails too
	}{{"succeeded", false}, {"failed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f.failing.Store(true)
			f.calls.Store(0)
			var second error // what the second attempt returned
			a := &afterAttempt{f: func(n int64, err error) {
				switch n {
				case 1:
					f.failing.Store(tc.failing)
				case 2:
					second = err
					cancel() // the caller gives up as the answer comes back
				}
			}}
			p := dial(t, addr, resilience.Retry(resilience.RetryConfig{Backoff: time.Millisecond, Attempts: 5, AnyMethod: true}), a)
			got, err := netron.CallUnary[string](ctx, p, "flaky@^1", "put", "k")
			if n := f.calls.Load(); n != 2 {
				t.Fatalf("%d attempts reached the server, want 2", n)
			}
			switch {
			case !tc.failing && (err != nil || got != "flaky:k"):
				t.Fatalf("a put whose second attempt succeeded: %q, %v; want its answer", got, err)
			case tc.failing && (second == nil || !errors.Is(err, second)):
				t.Fatalf("a put whose second attempt failed: %v; want that attempt's failure (%v)", err, second)
			}
		})
	}
}
