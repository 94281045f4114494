package tracing_test

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/tracing"
)

// countingProvider counts the spans its tracers start.
type countingProvider struct {
	trace.TracerProvider
	started *atomic.Int64
}

func (p countingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return countingTracer{p.TracerProvider.Tracer(name, opts...), p.started}
}

type countingTracer struct {
	trace.Tracer
	started *atomic.Int64
}

func (t countingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	t.started.Add(1)
	return t.Tracer.Start(ctx, name, opts...)
}

// With WithRootRatio(0) (tracing.ratio 0 in an app), a call that comes
// without a trace costs no span on either side; a call of a sampled trace
// that came from elsewhere is still traced through both.
func TestRootRatioZeroStartsNoSpanForNewTraces(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exp := tracetest.NewInMemoryExporter()
	var started atomic.Int64
	side := func() *netron.Netron {
		sdk := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(tracing.Sampler(0)))
		t.Cleanup(func() { sdk.Shutdown(context.Background()) })
		tp := countingProvider{sdk, &started}
		n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(tp, tracing.WithRootRatio(0))))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Stop(context.Background()) })
		return n
	}
	server, client := side(), side()
	if err := server.Register("relay", "1.0.0", &Relay{name: "s"}); err != nil {
		t.Fatal(err)
	}
	p := dial(t, client, listen(t, server, "tcp://127.0.0.1:0"))
	for range 5 {
		if _, err := netron.CallUnary[string](ctx, p, "relay@1.0.0", "relay", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if n := started.Load(); n != 0 {
		t.Fatalf("%d spans started for 5 calls of no trace at ratio 0, want none", n)
	}
	// A sampled trace from elsewhere: both sides follow it.
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true,
	})
	if _, err := netron.CallUnary[string](trace.ContextWithRemoteSpanContext(ctx, parent), p, "relay@1.0.0", "relay", "y"); err != nil {
		t.Fatal(err)
	}
	spans := waitSpans(t, exp, 2)
	for _, s := range spans {
		if s.SpanContext.TraceID() != parent.TraceID() {
			t.Errorf("span %s (%v) in trace %s, want the caller's %s", s.Name, s.SpanKind, s.SpanContext.TraceID(), parent.TraceID())
		}
	}
	if n := started.Load(); n != 2 {
		t.Errorf("%d spans started for the traced call, want 2 (client and server)", n)
	}
}

// At ratio 0 a call whose traceparent is malformed comes without a trace
// too: it starts no span, as WithRootRatio says (one was started, never
// recorded, its ids put on the call's errors).
func TestRootRatioZeroMalformedTraceparent(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	var started atomic.Int64
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(tracing.Sampler(0)))
	defer sdk.Shutdown(context.Background())
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(countingProvider{sdk, &started}, tracing.WithRootRatio(0))))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("relay", "1.0.0", &Relay{name: "s"}); err != nil {
		t.Fatal(err)
	}
	arg, err := protocol.Marshal("x")
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{"garbage", "00-zz-zz-01", "ff-" + strings.Repeat("1", 32) + "-" + strings.Repeat("2", 16) + "-01", "00-" + strings.Repeat("0", 32) + "-" + strings.Repeat("2", 16) + "-01"} {
		if _, err := n.Invoke(context.Background(), &netron.Invocation{Service: "relay@1.0.0", Method: "relay", Args: []protocol.RawValue{arg},
			Metadata: map[string]string{"traceparent": tp}}); err != nil {
			t.Fatal(err)
		}
		if got := started.Load(); got != 0 {
			t.Fatalf("traceparent %q: %d spans started at ratio 0, want none", tp, got)
		}
	}
}

// A ratio that is not a number samples nothing, on every platform (the
// SDK's ratio sampler turns NaN into a bound that depends on it).
func TestSamplerNaNSamplesNothing(t *testing.T) {
	s := tracing.Sampler(math.NaN())
	for i := range 64 {
		id := trace.TraceID{byte(i * 4), 1, 2, 3}
		r := s.ShouldSample(sdktrace.SamplingParameters{ParentContext: context.Background(), TraceID: id, Name: "x"})
		if r.Decision != sdktrace.Drop {
			t.Fatalf("trace %s sampled (%v) at ratio NaN", id, r.Decision)
		}
	}
}
