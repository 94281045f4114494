package netron_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// notYet is a WatchResolver of a service that is not registered yet: Resolve
// and the watch fail not_found until found is given the addresses, which
// the watch then yields (as discovery's resolver does for a service that
// starts beside its client).
type notYet struct {
	found chan []string
}

func newNotYet() notYet { return notYet{found: make(chan []string, 1)} }

var errNotYet = netron.Errorf(netron.CodeNotFound, "no healthy instance of counter@^1 is registered yet")

func (notYet) Resolve(context.Context, netron.Target) ([]string, error) { return nil, errNotYet }

func (r notYet) Watch(ctx context.Context, _ netron.Target) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		if !yield(nil, errNotYet) {
			return
		}
		select {
		case <-ctx.Done():
		case addrs := <-r.found:
			if yield(addrs, nil) {
				<-ctx.Done()
			}
		}
	}
}

// waitingClient is what the tests below call the counter service with.
type waitingClient struct {
	Who   func(ctx context.Context) (string, error)
	Count func(ctx context.Context, n int) iter.Seq2[string, error]
}

// newWaitingPool makes a pool of counter@^1 resolved by r, bound to a
// waitingClient, on a Netron that stops with the test; it is not started.
func newWaitingPool(t *testing.T, r netron.Resolver, opts ...netron.ClientOption) (*netron.Pool, *waitingClient) {
	t.Helper()
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	pool, err := client.NewPool("counter@^1", r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	c := &waitingClient{}
	if err := pool.Bind(c); err != nil {
		t.Fatal(err)
	}
	return pool, c
}

// Calls made at once after Start, while the resolver has not found the
// service yet (it answers 200 ms later) or its instance is being dialled,
// wait for the instance instead of failing: a bound unary call, a bound
// stream, Check, Pool.Call and Pool.OpenStream.
func TestPoolCallsWaitForTheFirstInstance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		r    func(addrs []string) (netron.Resolver, func())
	}{
		// Resolve and the watch say not_found until the service comes.
		{"not found yet", func(addrs []string) (netron.Resolver, func()) {
			r := newNotYet()
			return r, func() { r.found <- addrs }
		}},
		// Resolve finds nothing; the watch yields the address later, which
		// the pool then dials in the background.
		{"found later", func(addrs []string) (netron.Resolver, func()) {
			w := watchOf{changes: make(chan []string, 1)}
			return w, func() { w.changes <- addrs }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addrs := serveEach(t, "counter", func(name string) any { return Counter{name} }, "a")
			r, appear := tc.r(addrs)
			pool, c := newWaitingPool(t, r)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := pool.Start(ctx); err != nil {
				t.Fatalf("Start while the service is not found yet: %v", err)
			}
			start := time.Now()
			time.AfterFunc(200*time.Millisecond, appear)
			calls := map[string]func() error{
				"bound unary": func() error {
					who, err := c.Who(ctx)
					if err == nil && who != "a" {
						err = errors.New("answered " + who)
					}
					return err
				},
				"bound stream": func() error {
					n := 0
					for _, err := range c.Count(ctx, 3) {
						if err != nil {
							return err
						}
						n++
					}
					if n != 3 {
						return errors.New("not 3 items")
					}
					return nil
				},
				"Check": func() error { return pool.Check(ctx, &waitingClient{}) },
				"Pool.Call": func() error {
					_, err := pool.Call(ctx, "who")
					return err
				},
				"Pool.OpenStream": func() error {
					s, err := pool.OpenStream(ctx, "count", 1)
					if err != nil {
						return err
					}
					for _, err := range netron.All[string](s) {
						if err != nil {
							return err
						}
					}
					return nil
				},
			}
			var wg sync.WaitGroup
			for name, call := range calls {
				wg.Go(func() {
					if err := call(); err != nil {
						t.Errorf("%s made at once after Start: %v", name, err)
					}
				})
			}
			wg.Wait()
			if took := time.Since(start); took < 150*time.Millisecond {
				t.Fatalf("the calls returned after %v, before the instance could be found (200ms)", took)
			}
		})
	}
}

// A call whose context ends before an instance connects fails then, with
// its context's error, not after the pool's wait.
func TestPoolWaitEndsWithTheCallsContext(t *testing.T) {
	t.Parallel()
	pool, c := newWaitingPool(t, watchOf{changes: make(chan []string)}) // finds nothing, ever
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Who(ctx)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("a call whose deadline ends while it waits: %v (%v), want deadline_exceeded, context.DeadlineExceeded", err, netron.CodeOf(err))
	}
	if took < 140*time.Millisecond || took > 3*time.Second {
		t.Fatalf("the call with a 150ms deadline returned after %v", took)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := pool.Call(ctx, "who"); !errors.Is(err, context.Canceled) {
		t.Fatalf("a call cancelled while it waits: %v, want context.Canceled", err)
	}
}

// A call whose context ends while the pool's only instance accepts the
// connection but never answers the handshake fails within its deadline,
// with an error that names the service and what the pool was doing, not
// a bare "context deadline exceeded".
func TestPoolWaitEndedNamesTheService(t *testing.T) {
	t.Parallel()
	r := newNotYet()
	pool, c := newWaitingPool(t, r)
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	silent := transporttest.SilentAddr(t)
	r.found <- []string{silent}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Who(ctx)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("the call with a 200ms deadline returned after %v", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("a call whose deadline ends while it waits: %v (%v), want deadline_exceeded, context.DeadlineExceeded", err, netron.CodeOf(err))
	}
	for _, want := range []string{"counter@^1: no instance is connected", silent} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// WithConnectWait bounds the wait of a call without a deadline; the error
// names the target, what was waited for and how long, and what the
// resolver said, and is unavailable and ErrNotRun (safe to send again).
// The option's bad values are refused.
func TestPoolConnectWait(t *testing.T) {
	t.Parallel()
	pool, c := newWaitingPool(t, newNotYet(), netron.WithConnectWait(300*time.Millisecond))
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := c.Who(context.Background())
	took := time.Since(start)
	if took < 290*time.Millisecond || took > 3*time.Second {
		t.Fatalf("a call with ConnectWait(300ms) returned after %v: %v", took, err)
	}
	if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, netron.ErrNotRun) {
		t.Fatalf("the wait's error: %v (%v), want unavailable and ErrNotRun", err, netron.CodeOf(err))
	}
	for _, want := range []string{"counter@^1", "no instance is connected", "waited 300ms", "first instance to connect", "no healthy instance of counter@^1 is registered yet"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the wait's error %q does not say %q", err, want)
		}
	}

	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts []netron.ClientOption
		want string
	}{
		{[]netron.ClientOption{netron.WithConnectWait(0)}, "ConnectWait(0s): want a duration above zero"},
		{[]netron.ClientOption{netron.WithConnectWait(-time.Second)}, "ConnectWait(-1s): want a duration above zero"},
		{[]netron.ClientOption{netron.WithConnectWait(time.Second), netron.WithConnectWait(2 * time.Second)}, "ConnectWait(2s) conflicts with ConnectWait(1s)"},
	} {
		if _, err := n.NewPool("counter@^1", newNotYet(), tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := n.NewPool("counter@^1", newNotYet(), netron.WithConnectWait(time.Second), netron.WithConnectWait(time.Second)); err != nil {
		t.Errorf("the same ConnectWait twice: %v", err)
	}
}

// Close wakes a call waiting for the first instance, which fails at once,
// saying the pool closed; a call after Close fails at once too.
func TestPoolCloseWakesAWaitingCall(t *testing.T) {
	t.Parallel()
	pool, c := newWaitingPool(t, watchOf{changes: make(chan []string)}) // finds nothing, ever
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Who(context.Background())
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the call returned before Close: %v", err)
	default:
	}
	closed := time.Now()
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "counter@^1: the pool was closed while the call waited") {
			t.Fatalf("the waiting call after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiting call still waits 2s after Close")
	}
	if took := time.Since(closed); took > time.Second {
		t.Fatalf("the waiting call returned %v after Close", took)
	}
	start := time.Now()
	if _, err := c.Who(context.Background()); netron.CodeOf(err) != netron.CodeUnavailable || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("a call after Close: %v after %v, want unavailable at once", err, time.Since(start))
	}
}

// Once the pool has had an instance, losing every one fails calls at once,
// as before: the wait is for the first instance only.
func TestPoolFailsAtOnceAfterLosingItsInstances(t *testing.T) {
	t.Parallel()
	addrs := serveEach(t, "counter", func(name string) any { return Counter{name} }, "a")
	w := watchOf{first: addrs, changes: make(chan []string, 1)}
	pool, c := newWaitingPool(t, w, netron.WithConnectWait(5*time.Second))
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if who, err := c.Who(context.Background()); err != nil || who != "a" {
		t.Fatalf("a call with the instance connected: %q, %v", who, err)
	}
	w.changes <- nil // the instance leaves
	deadline := time.Now().Add(3 * time.Second)
	for len(pool.Addrs()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("3s after the instance left: Addrs = %v", pool.Addrs())
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	_, err := c.Who(context.Background())
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a call with no instance left returned after %v (ConnectWait 5s): %v; want at once", took, err)
	}
	if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, netron.ErrNotRun) || !strings.Contains(err.Error(), "counter@^1: no instance is connected") {
		t.Fatalf("a call with no instance left: %v", err)
	}
}

// A pool whose resolver does not follow changes has nothing to wait for:
// with no instance (the resolver found none) a call fails at once, and a
// not_found of the resolver fails Start, as before.
func TestPoolWithAFixedResolverDoesNotWait(t *testing.T) {
	t.Parallel()
	pool, c := newWaitingPool(t, resolverOf{}, netron.WithConnectWait(5*time.Second))
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Who(context.Background()); netron.CodeOf(err) != netron.CodeUnavailable || time.Since(start) > time.Second {
		t.Fatalf("a call on a pool of a fixed resolver that found nothing: %v after %v, want unavailable at once", err, time.Since(start))
	}
	fixed, _ := newWaitingPool(t, netron.Resolvers{netron.StaticResolver{"other": "tcp://127.0.0.1:1"}})
	if err := fixed.Start(context.Background()); netron.CodeOf(err) != netron.CodeNotFound {
		t.Fatalf("Start of a pool whose fixed resolvers do not know the service: %v, want not_found", err)
	}
}

// scripted is a WatchResolver whose watch yields errs in order (a nil error
// yields no address), closes done, and then waits for the end of the watch.
type scripted struct {
	errs []error
	done chan struct{}
}

func (scripted) Resolve(context.Context, netron.Target) ([]string, error) { return nil, errNotYet }

func (r scripted) Watch(ctx context.Context, _ netron.Target) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, err := range r.errs {
			if !yield(nil, err) {
				return
			}
		}
		close(r.done)
		<-ctx.Done()
	}
}

// A watch that fails the same way again and again, as discovery's does
// while the service is not registered yet (every half second at first),
// is logged once per run of the same error: not found at Info, as a normal
// start of two apps together has it, other errors at Warn; the repeats at
// Debug.
func TestPoolLogsAWatchFailureOncePerRun(t *testing.T) {
	t.Parallel()
	unavailable := netron.Errorf(netron.CodeUnavailable, "the registry does not answer")
	r := scripted{done: make(chan struct{}), errs: []error{
		errNotYet, errNotYet, errNotYet, // one run: one Info, two Debug
		unavailable, unavailable, // one Warn, one Debug
		errNotYet,            // a new run: Info
		nil,                  // the resolver answers (no instance): the run ends
		errNotYet, errNotYet, // Info, Debug
	}}
	log, rec := captureLogger()
	pool, _ := newWaitingPool(t, r, netron.WithLogger(log))
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pool did not follow the watch in 5s")
	}
	if n := rec.count("INFO waiting for an instance of a remote service to be registered", "target=counter@^1", "no healthy instance of counter@^1 is registered yet"); n != 3 {
		t.Errorf("%d Info records of the service not found, want 3 (one per run)", n)
	}
	if n := rec.count("WARN following the instances of a remote service failed", "instances=0", "the registry does not answer"); n != 1 {
		t.Errorf("%d Warn records of the registry not answering, want 1", n)
	}
	if n := rec.count("DEBUG following the instances of a remote service: still failing"); n != 4 {
		t.Errorf("%d Debug records of repeats, want 4", n)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.msgs) != 8 {
		t.Errorf("%d records, want 8:\n%s", len(rec.msgs), strings.Join(rec.msgs, "\n"))
	}
}
