package resilience_test

import (
	"context"
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
