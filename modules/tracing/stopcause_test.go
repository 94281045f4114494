package tracing_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// tracedStreamServer serves svc as name@1.0.0 over tcp on a Netron of cfg
// whose spans go to the exporter it returns, and dials it from a plain
// Netron.
func tracedStreamServer(t *testing.T, cfg netron.Config, name string, svc any) (*tracetest.InMemoryExporter, *netron.Peer) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	n, err := netron.New(cfg, nil, netron.WithInterceptors(tracing.NewInterceptor(tp)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = n.Stop(ctx)
		_ = tp.Shutdown(ctx)
	})
	if err := n.Register(name, "1.0.0", svc); err != nil {
		t.Fatal(err)
	}
	addr := listen(t, n, "tcp://127.0.0.1:0")
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	return exp, dial(t, client, addr)
}

// spanCode is the Netron status code a span records.
func spanCode(s tracetest.SpanStub) string {
	for _, a := range s.Attributes {
		if a.Key == tracing.CodeKey {
			return a.Value.AsString()
		}
	}
	return ""
}

// waitSpan waits up to 5 s for exp's span i (from 0) and returns it.
func waitSpan(t *testing.T, exp *tracetest.InMemoryExporter, i int) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if spans := exp.GetSpans(); len(spans) > i {
			return spans[i]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no span %d", i)
	return tracetest.SpanStub{}
}

// TestServedStreamStoppedByTheEngine: the span of a stream the engine
// stops because its reader stayed idle records why (deadline_exceeded,
// an error), and one its reader closes records canceled. Before, both
// read "canceled: the reader stopped the stream".
func TestServedStreamStoppedByTheEngine(t *testing.T) {
	exp, p := tracedStreamServer(t, netron.Config{StreamWindow: 2, StreamIdleTimeout: 200 * time.Millisecond}, "relay", &Relay{name: "a"})
	ctx := context.Background()

	// A reader that reads nothing: the producer waits for credit, then
	// gives up after the idle timeout.
	idle, err := p.OpenStream(ctx, "relay@1.0.0", "count", 1000)
	if err != nil {
		t.Fatal(err)
	}
	span := waitSpan(t, exp, 0)
	if got := spanCode(span); got != "deadline_exceeded" || span.Status.Code != codes.Error {
		t.Errorf("idle reader: span code %q, status %v %q; want deadline_exceeded, an error", got, span.Status.Code, span.Status.Description)
	}
	_ = idle.Close()

	// A reader that reads one item and closes the stream.
	s, err := p.OpenStream(ctx, "relay@1.0.0", "count", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got := spanCode(waitSpan(t, exp, 1)); got != "canceled" {
		t.Errorf("closed by the reader: span code %q, want canceled", got)
	}
}

// watcher's stream yields one item, then returns when its context ends:
// the usual way an iterator honours its context.
type watcher struct{}

func (watcher) Watch(ctx context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if !yield(1, nil) {
			return
		}
		<-ctx.Done()
	}
}

// TestServedStreamReturnsOnItsContext: a stream whose iterator returns
// (rather than seeing yield report false) once its reader closes it is
// recorded as canceled. Before, its span read ok.
func TestServedStreamReturnsOnItsContext(t *testing.T) {
	exp, p := tracedStreamServer(t, netron.Config{}, "watcher", watcher{})
	s, err := p.OpenStream(context.Background(), "watcher@1.0.0", "watch")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	span := waitSpan(t, exp, 0)
	if code := spanCode(span); code != "canceled" {
		t.Errorf("span code %q (status %v %q), want canceled", code, span.Status.Code, span.Status.Description)
	}
}
