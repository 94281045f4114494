package tracing_test

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http"
	_ "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/tracing"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Relay is the service of every hop: relay passes its argument on to the
// next hop, if any, and returns what comes back; fail fails, by the next
// hop when there is one; count streams 0..n-1 (from the next hop when
// there is one).
type Relay struct {
	name   string
	next   *netron.Peer // nil at the last hop
	target string       // the next hop's service
	logged chan context.Context
}

func (r *Relay) Relay(ctx context.Context, s string) (string, error) {
	if r.logged != nil {
		r.logged <- ctx
	}
	if r.next == nil {
		return r.name + ":" + s, nil
	}
	out, err := netron.CallUnary[string](ctx, r.next, r.target, "relay", s)
	if err != nil {
		return "", err
	}
	return r.name + ":" + out, nil
}

func (r *Relay) Fail(ctx context.Context) error {
	if r.next == nil {
		return netron.Errorf(netron.CodeFailedPrecondition, "%s refuses", r.name)
	}
	_, err := r.next.Call(ctx, r.target, "fail")
	return err
}

func (r *Relay) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if r.next == nil {
			for i := range n {
				if !yield(i, nil) {
					return
				}
			}
			return
		}
		for v, err := range netron.CallStream[int](ctx, r.next, r.target, "count", n) {
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// tracedNetron returns a Netron whose calls are traced by a TracerProvider
// of its own that records every span into exp as it ends.
func tracedNetron(t *testing.T, exp *tracetest.InMemoryExporter, ratio float64) *netron.Netron {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(tracing.Sampler(ratio)))
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(tp)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Error(err)
		}
		if err := tp.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return n
}

func listen(t *testing.T, n *netron.Netron, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := n.Listen(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func dial(t *testing.T, n *netron.Netron, addr string) *netron.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// waitSpans waits until exp holds n spans (a server span ends after its
// answer is sent) and returns them.
func waitSpans(t *testing.T, exp *tracetest.InMemoryExporter, n int) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := exp.GetSpans()
		if len(spans) >= n || time.Now().After(deadline) {
			if len(spans) != n {
				for _, s := range spans {
					t.Logf("span %s %s parent %s", s.Name, s.SpanContext.SpanID(), s.Parent.SpanID())
				}
				t.Fatalf("%d spans, want %d", len(spans), n)
			}
			return spans
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// attr returns the value of attribute key of s, or "".
func attr(s tracetest.SpanStub, key string) string {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// chainOf returns spans ordered from the root down, each the only child
// of the one before, or an error saying where the chain breaks.
func chainOf(spans tracetest.SpanStubs) ([]tracetest.SpanStub, error) {
	var chain []tracetest.SpanStub
	for len(chain) < len(spans) {
		var next []tracetest.SpanStub
		for _, s := range spans {
			if len(chain) == 0 && !s.Parent.IsValid() ||
				len(chain) > 0 && s.Parent.SpanID() == chain[len(chain)-1].SpanContext.SpanID() {
				next = append(next, s)
			}
		}
		if len(next) != 1 {
			return chain, fmt.Errorf("after %d spans of the chain: %d children, want 1", len(chain), len(next))
		}
		chain = append(chain, next[0])
	}
	return chain, nil
}
