package tracing_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/tracing"
)

// A served call follows the sampled flag of the traceparent it comes
// with, whatever the provider's ratio: flags 00, no span is exported; 01,
// the server span and the client span of the onward call are. The onward
// call carries the same trace and flag, with or without spans made.
func TestTraceparentSampledFlagIsFollowed(t *testing.T) {
	const traceID, parentID = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	for _, c := range []struct {
		name  string
		tp    func(*tracetest.InMemoryExporter) trace.TracerProvider // nil: no spans made
		ratio float64
	}{
		{"ratio 1", func(exp *tracetest.InMemoryExporter) trace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(tracing.Sampler(1)))
		}, 1},
		{"ratio 0", func(exp *tracetest.InMemoryExporter) trace.TracerProvider {
			return sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(tracing.Sampler(0)))
		}, 0},
		{"exporter none", nil, 1},
	} {
		for _, flags := range []string{"00", "01"} {
			t.Run(c.name+"/"+flags, func(t *testing.T) {
				exp := tracetest.NewInMemoryExporter()
				var tp trace.TracerProvider
				if c.tp != nil {
					tp = c.tp(exp)
					t.Cleanup(func() { tp.(*sdktrace.TracerProvider).Shutdown(context.Background()) })
				}
				front, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(tp, tracing.WithRootRatio(c.ratio))))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { front.Stop(context.Background()) })
				got := make(chan string, 1)
				back, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
					return func(ctx context.Context, call *netron.Call) (any, error) {
						if !call.IsClient() {
							got <- call.Metadata["traceparent"]
						}
						return next(ctx, call)
					}
				})))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { back.Stop(context.Background()) })
				if err := back.Register("relay", "1.0.0", &Relay{name: "b"}); err != nil {
					t.Fatal(err)
				}
				if err := front.Register("relay", "1.0.0", &Relay{name: "f", next: dial(t, front, listen(t, back, "tcp://127.0.0.1:0")), target: "relay@1.0.0"}); err != nil {
					t.Fatal(err)
				}
				arg, err := protocol.Marshal("x")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := front.Invoke(context.Background(), &netron.Invocation{Service: "relay@1.0.0", Method: "relay", Args: []protocol.RawValue{arg},
					Metadata: map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-" + flags}}); err != nil {
					t.Fatal(err)
				}
				onward := <-got
				if parts := strings.Split(onward, "-"); len(parts) != 4 || parts[1] != traceID || parts[3] != flags {
					t.Errorf("the onward call's traceparent is %q, want trace %s with flags %s", onward, traceID, flags)
				}
				want := 0
				if flags == "01" && c.tp != nil {
					want = 2 // the front's server span and its client span
				}
				if spans := exp.GetSpans(); len(spans) != want {
					t.Errorf("%d spans exported for a traceparent of flags %s, want %d", len(spans), flags, want)
				}
			})
		}
	}
}
