package http_test

import (
	"context"
	"iter"
	"net/http"
	"sync"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// stopCauses is an interceptor that records, for each stream it serves
// that the gateway stops (a yield returns false), the cause of the
// stream's context then: what an interceptor such as metrics or tracing
// records as the stream's outcome.
type stopCauses struct {
	mu     sync.Mutex
	causes []error
}

func (s *stopCauses) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }
func (s *stopCauses) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}

func (s *stopCauses) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		seq, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		return func(yield func(any, error) bool) {
			for v, err := range seq {
				if !yield(v, err) {
					s.mu.Lock()
					s.causes = append(s.causes, context.Cause(ctx))
					s.mu.Unlock()
					return
				}
			}
		}, nil
	}
}

func (s *stopCauses) last() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.causes) == 0 {
		return nil
	}
	return s.causes[len(s.causes)-1]
}

// TestStreamStopReasonReachesInterceptors: a stream that /netron/invoke
// stops at its item limit ends with its context's cause saying
// resource_exhausted, so interceptors record why. Before, the context was
// not done when the yield returned false, and metrics and tracing
// recorded canceled.
func TestStreamStopReasonReachesInterceptors(t *testing.T) {
	sc := &stopCauses{}
	srv := startServer(t, "", netron.WithInterceptors(sc))
	r := post(t, client(t), srv.addr+"/netron/invoke", `{"id":"1","version":"2.0","timestamp":0,"service":"calculator@1.0.0","method":"count","input":[20000]}`)
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a stream of 20000 items: %d %.200s", r.status, r.body)
	}
	if got := netron.CodeOf(sc.last()); got != netron.CodeResourceExhausted {
		t.Errorf("the interceptor saw the stream stopped with %v (%v), want resource_exhausted", got, sc.last())
	}
}
