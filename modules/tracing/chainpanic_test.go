package tracing_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// A call or stream whose chain panics inside the interceptor (in an
// interceptor nearer the method: the engine recovers a served call's
// panic, answering internal; a call made panics in its caller) still
// ends its span, failed and internal.
func TestSpanEndsWhenChainPanics(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(tp), testsrv.Panicking{}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("relay", "1.0.0", &Relay{name: "a"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := n.Invoke(ctx, &netron.Invocation{Service: "relay@1.0.0", Method: "relay", Transport: "http"}); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("Invoke(relay) = %v, want internal", err)
	}
	if _, err := n.InvokeStream(ctx, &netron.Invocation{Service: "relay@1.0.0", Method: "count", Transport: "http"}); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("InvokeStream(count) = %v, want internal", err)
	}
	p := dial(t, n, listen(t, n, "tcp://127.0.0.1:0"))
	panicked := func(what string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", what)
			}
		}()
		f()
	}
	panicked("Call(relay)", func() { _, _ = p.Call(ctx, "relay@1.0.0", "relay", "x") })
	panicked("OpenStream(count)", func() { _, _ = p.OpenStream(ctx, "relay@1.0.0", "count", 1) })

	kinds := map[trace.SpanKind]int{}
	for _, s := range exp.GetSpans() {
		kinds[s.SpanKind]++
		if s.Status.Code != codes.Error || attr(s, string(tracing.CodeKey)) != "internal" {
			t.Errorf("span %s (%s): status %v, code %q; want an error, internal", s.Name, s.SpanKind, s.Status, attr(s, string(tracing.CodeKey)))
		}
	}
	if kinds[trace.SpanKindServer] != 2 || kinds[trace.SpanKindClient] != 2 {
		t.Errorf("spans ended: %d server, %d client; want 2 of each (one per call)", kinds[trace.SpanKindServer], kinds[trace.SpanKindClient])
	}
}
