package tracing_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// A stream whose inner chain returns neither an iterator nor an error
// reaches the Interceptor as the engine's refusal of that interceptor's
// bug, not as a nil iterator that the Interceptor's own would panic
// ranging over; its span ends internal.
func TestNilStreamFromInnerChain(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	var logs testsrv.LogBuffer
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&logs, nil)),
		netron.WithInterceptors(tracing.NewInterceptor(tp), testsrv.NilStreams{}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("relay", "1.0.0", &Relay{name: "a"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := dial(t, n, listen(t, n, "tcp://127.0.0.1:0"))
	st, err := p.OpenStream(ctx, "relay@1.0.0", "count", 1)
	for err == nil {
		_, err = st.Next()
	}
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("stream count = %v, want internal", err)
	}
	for _, s := range exp.GetSpans() {
		if s.Status.Code != codes.Error || attr(s, string(tracing.CodeKey)) != "internal" {
			t.Errorf("span %s (%s): status %v, code %q; want an error, internal", s.Name, s.SpanKind, s.Status, attr(s, string(tracing.CodeKey)))
		}
	}
	out := logs.String()
	if strings.Contains(out, "panicked") || !strings.Contains(out, "returned neither an iterator nor an error") {
		t.Fatalf("log:\n%s\nwant the interceptor's nil iterator named, no panic", out)
	}
}
