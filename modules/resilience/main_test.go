package resilience_test

import (
	"context"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Flaky is a service the tests make fail, block or lag.
type Flaky struct {
	name     string
	calls    atomic.Int64 // calls that reached a method
	failing  atomic.Bool  // the methods answer unavailable
	inflight atomic.Int64
	hold     chan struct{} // Wait blocks until it is closed
}

func (f *Flaky) answer(key string) (string, error) {
	f.calls.Add(1)
	if f.failing.Load() {
		return "", netron.Errorf(netron.CodeUnavailable, "%s is down", f.name)
	}
	return f.name + ":" + key, nil
}

// Get is idempotent (registered so).
func (f *Flaky) Get(_ context.Context, key string) (string, error) { return f.answer(key) }

// Put is not.
func (f *Flaky) Put(_ context.Context, key string) (string, error) { return f.answer(key) }

// Bad always fails with invalid_argument: the remote works, the call is
// wrong.
func (f *Flaky) Bad(context.Context) error {
	f.calls.Add(1)
	return netron.Errorf(netron.CodeInvalidArgument, "bad")
}

// Wait blocks until hold is closed or the call ends; it is idempotent.
func (f *Flaky) Wait(ctx context.Context) (string, error) { return f.Take(ctx) }

// Take is Wait, not idempotent.
func (f *Flaky) Take(ctx context.Context) (string, error) {
	f.calls.Add(1)
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	select {
	case <-f.hold:
		return f.name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Slow answers after ms milliseconds, or fails when the call ends first.
func (f *Flaky) Slow(ctx context.Context, ms int) (string, error) {
	f.calls.Add(1)
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return f.name, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Count streams n items.
func (f *Flaky) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// serve starts a server of flaky@1.0.0 (get and wait idempotent) on TCP,
// with ics on its serving side, and returns it and its address; both stop
// when the test ends.
func serve(t *testing.T, f *Flaky, ics ...netron.Interceptor) (*netron.Netron, string) {
	t.Helper()
	if f.hold == nil {
		f.hold = make(chan struct{})
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ics...))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("flaky", "1.0.0", f, netron.WithMethod("get", netron.WithIdempotent()), netron.WithMethod("wait", netron.WithIdempotent())); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-f.hold:
		default:
			close(f.hold)
		}
		_ = n.Stop(context.Background())
	})
	return n, addr
}

// dial connects to addr with ics on the calling side; the peer closes
// when the test ends.
func dial(t *testing.T, addr string, ics ...netron.Interceptor) *netron.Peer {
	t.Helper()
	p, err := netron.Dial(context.Background(), addr, netron.WithInterceptors(ics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// get calls method of flaky@^1 with args and returns its string result.
func get(p *netron.Peer, method string, args ...any) (string, error) {
	return netron.CallUnary[string](context.Background(), p, "flaky@^1", method, args...)
}

// eventually waits up to 5s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stuckOpenings is a serving-side interceptor under which no stream opens:
// the opening waits until the caller gives up (a remote whose streams
// hang).
type stuckOpenings struct{}

func (stuckOpenings) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }

func (stuckOpenings) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

func (stuckOpenings) WrapStreamingHandler(netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, _ *netron.Call) (iter.Seq2[any, error], error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
}

// panicking is a calling-side interceptor that panics, while on is set,
// in place of the calls and stream openings it is given (a bug below a
// policy); ctx is the context of the last one.
type panicking struct {
	on  atomic.Bool
	ctx atomic.Pointer[context.Context]
}

func (p *panicking) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if call.IsClient() && p.on.Load() {
			p.ctx.Store(&ctx)
			panic("panicking: " + call.Method)
		}
		return next(ctx, call)
	}
}

func (p *panicking) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if p.on.Load() {
			p.ctx.Store(&ctx)
			panic("panicking: " + call.Method)
		}
		return next(ctx, call)
	}
}

func (*panicking) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// recovered runs f and recovers its panic, as net/http does for a
// handler; it fails the test when f does not panic.
func recovered(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	f()
}

// openStream opens a stream of count on p and closes it at once.
// callKinds are a unary call and a stream opening, for the tests that
// want a policy to behave alike for both.
var callKinds = []struct {
	name string
	call func(p *netron.Peer) error
}{
	{"unary", func(p *netron.Peer) error { _, err := get(p, "get", "k"); return err }},
	{"stream", func(p *netron.Peer) error { return openStream(context.Background(), p) }},
}

func openStream(ctx context.Context, p *netron.Peer) error {
	s, err := p.OpenStream(ctx, "flaky@^1", "count", 3)
	if err == nil {
		_ = s.Close()
	}
	return err
}
