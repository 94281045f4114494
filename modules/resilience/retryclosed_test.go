package resilience_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// attempts is a calling-side interceptor counting the attempts of the
// calls and stream openings that reach it.
type attempts struct{ n atomic.Int64 }

func (a *attempts) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if call.IsClient() {
			a.n.Add(1)
		}
		return next(ctx, call)
	}
}

func (a *attempts) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		a.n.Add(1)
		return next(ctx, call)
	}
}

func (*attempts) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// A call on a peer closed for good is not sent again: no attempt can
// succeed, and retrying only delays the failure by the backoff.
func TestRetryStopsOnAClosedPeer(t *testing.T) {
	t.Parallel()
	_, addr := serve(t, &Flaky{name: "a"})
	for _, kind := range callKinds {
		t.Run(kind.name, func(t *testing.T) {
			var a attempts
			p := dial(t, addr, resilience.Retry(resilience.RetryConfig{AnyMethod: true}), &a)
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			err := kind.call(p)
			if netron.CodeOf(err) != netron.CodeUnavailable {
				t.Fatalf("a call on a closed peer: %v, want unavailable", err)
			}
			if got := a.n.Load(); got != 1 {
				t.Fatalf("a call on a closed peer was attempted %d times (%v), want once", got, err)
			}
		})
	}
}

// Nor is a call through a pool closed for good: the pool answers every
// attempt at once that it is closed.
func TestRetryStopsOnAClosedPool(t *testing.T) {
	t.Parallel()
	_, addr := serve(t, &Flaky{name: "a"})
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	var a attempts
	pool, err := client.NewPool("flaky@^1", resolverOf{addr}, netron.WithInterceptors(resilience.Retry(resilience.RetryConfig{AnyMethod: true}), &a))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Call(context.Background(), "get", "k")
	if !errors.Is(err, netron.ErrClosed) || !errors.Is(err, netron.ErrNotRun) {
		t.Fatalf("a call through a closed pool: %v, want one matching ErrClosed and ErrNotRun", err)
	}
	if got := a.n.Load(); got != 1 {
		t.Fatalf("a call through a closed pool was attempted %d times (%v), want once", got, err)
	}
}
