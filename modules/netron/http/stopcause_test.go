package http_test

import (
	"context"
	"fmt"
	"iter"
	"math"
	"net/http"
	"strings"
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

// Odd serves a stream whose second item has no JSON form (JSON has no
// infinity).
type Odd struct{}

func (Odd) Items(context.Context) iter.Seq2[float64, error] {
	return func(yield func(float64, error) bool) {
		if yield(1, nil) {
			yield(math.Inf(1), nil)
		}
	}
}

// TestStreamRouteStopReasonReachesInterceptors: a stream that an NDJSON or
// SSE answer stops at an item without a JSON form ends with its
// context's cause saying internal, naming the item, as /netron/invoke's
// does at its limits. Before, the interceptors saw it stopped by its
// reader (canceled).
func TestStreamRouteStopReasonReachesInterceptors(t *testing.T) {
	sc := &stopCauses{}
	srv := startServer(t, "", netron.WithInterceptors(sc))
	if err := srv.n.Register("odd", "1.0.0", Odd{}, netron.WithHTTP("/api/odd")); err != nil {
		t.Fatal(err)
	}
	for _, accept := range []string{"application/x-ndjson", "text/event-stream"} {
		r := post(t, client(t), srv.addr+"/api/odd/items", `[]`, "Accept", accept)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), "internal") {
			t.Fatalf("%s: %d %.300s; want 200 with an internal error after the first item", accept, r.status, r.body)
		}
		if err := sc.last(); netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(fmt.Sprint(err), "stream item 2 has no JSON form") {
			t.Errorf("%s: the interceptor saw the stream stopped with %v, want internal naming item 2 (%s)", accept, err, r.body)
		}
	}
}
