package tracing_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// Two Netrons traced by providers of their own: the server's span of a
// call is the child of the client's, in the same trace.
func ExampleNewInterceptor() {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	traced := func() netron.Option {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
		return netron.WithInterceptors(tracing.NewInterceptor(tp))
	}

	server, _ := netron.New(netron.Config{}, nil, traced())
	defer server.Stop(ctx)
	_ = server.Register("echo", "1.0.0", Echo{})
	addr, _ := server.Listen(ctx, "mem://")

	peer, _ := netron.Dial(ctx, addr, traced())
	defer peer.Close()
	got, err := netron.CallUnary[string](ctx, peer, "echo@1.0.0", "echo", "hi")
	fmt.Println(got, err)

	s := spans.GetSpans() // the server's span ends first
	server0, client := s[0], s[1]
	fmt.Println(client.SpanKind, client.Name)
	fmt.Println(server0.SpanKind, server0.Name)
	fmt.Println("one trace:", server0.SpanContext.TraceID() == client.SpanContext.TraceID())
	fmt.Println("child of the client's span:", server0.Parent.SpanID() == client.SpanContext.SpanID())
	// Output:
	// hi <nil>
	// client echo@1.0.0/echo
	// server echo@1.0.0/echo
	// one trace: true
	// child of the client's span: true
}
