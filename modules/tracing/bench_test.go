package tracing_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// Echo is the benchmarks' service.
type Echo struct{}

func (Echo) Echo(_ context.Context, s string) (string, error) { return s, nil }

// discard is an exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// tracings are the ways the benchmarks trace both sides: off (no
// interceptor), none (the module's default: no spans, context passed
// on), ratio 0 (spans started, none sampled), ratio 1 (every span
// recorded, then dropped by the exporter).
var tracings = []struct {
	name string
	tp   func() trace.TracerProvider // nil: no interceptor
}{
	{"off", nil},
	{"none", func() trace.TracerProvider { return nil }},
	{"ratio0", func() trace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSampler(tracing.Sampler(0)), sdktrace.WithSyncer(discard{}))
	}},
	{"ratio1", func() trace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSampler(tracing.Sampler(1)), sdktrace.WithSyncer(discard{}))
	}},
}

// BenchmarkUnary is a unary call between two Netrons over tcp, and over
// mem, where the tracing's own cost stands out more, traced each way of
// tracings.
func BenchmarkUnary(b *testing.B) {
	for _, scheme := range []string{"tcp", "mem"} {
		for _, tr := range tracings {
			b.Run(scheme+"/"+tr.name, func(b *testing.B) { benchUnary(b, scheme, tr.tp) })
		}
	}
}

func benchUnary(b *testing.B, scheme string, tp func() trace.TracerProvider) {
	opts := func() []netron.Option {
		if tp == nil {
			return nil
		}
		return []netron.Option{netron.WithInterceptors(tracing.NewInterceptor(tp()))}
	}
	srv, err := netron.New(netron.Config{}, nil, opts()...)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	if err := srv.Register("echo", "1.0.0", Echo{}); err != nil {
		b.Fatal(err)
	}
	addr := "tcp://127.0.0.1:0"
	if scheme == "mem" {
		addr = "mem://"
	}
	bound, err := srv.Listen(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	var clientOpts []netron.ClientOption // a Netron option is a client option of Dial
	for _, o := range opts() {
		clientOpts = append(clientOpts, o)
	}
	peer, err := netron.Dial(context.Background(), bound, clientOpts...)
	if err != nil {
		b.Fatal(err)
	}
	defer peer.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if got, err := netron.CallUnary[string](ctx, peer, "echo@1.0.0", "echo", "hello"); err != nil || got != "hello" {
			b.Fatalf("echo: %q, %v", got, err)
		}
	}
}
