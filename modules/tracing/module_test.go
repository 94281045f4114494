package tracing_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

// appSpans receives the spans of the apps of this test binary that name
// the exporter "test-memory".
var appSpans = tracetest.NewInMemoryExporter()

func init() {
	tracing.RegisterExporter("test-memory", func(context.Context, tracing.Config) (sdktrace.SpanExporter, error) {
		return keepSpans{appSpans}, nil
	})
}

// keepSpans keeps its spans when the app stops (the in-memory exporter
// forgets them on Shutdown).
type keepSpans struct{ *tracetest.InMemoryExporter }

func (keepSpans) Shutdown(context.Context) error { return nil }

// Greeter logs each greeting with the call's context.
type Greeter struct{ log *slog.Logger }

func (g *Greeter) Greet(ctx context.Context, name string) (string, error) {
	g.log.InfoContext(ctx, "greeting", "name", name)
	if name == "" {
		return "", netron.Errorf(netron.CodeInvalidArgument, "no name")
	}
	return "hello " + name, nil
}

func appConfig(sets ...string) titan.Option {
	return titan.WithConfig(config.Options{Sets: append([]string{"logger.level=error"}, sets...), Environ: []string{}, NoWatch: true})
}

// TestModuleTracesApp: importing the package adds the module to every
// app; with an exporter named, the app's calls are spans that continue
// the caller's trace, the records a method logs carry the span's ids, and
// so does the error it returns.
func TestModuleTracesApp(t *testing.T) {
	if !linked.Has("titan.tracing") {
		t.Fatal("the module is not linked by importing the package")
	}
	appSpans.Reset()
	var logs testsrv.LogBuffer
	var n *netron.Netron
	var tp trace.TracerProvider
	testsrv.StartApp(t,
		appConfig("tracing.exporter=test-memory", "tracing.serviceName=greeter-app",
			"netron.listen=tcp://127.0.0.1:0", "logger.levels.greeter=info", "logger.format=json"),
		titan.WithLogger(logger.WithWriter(&logs)),
		titan.Service("greeter", "1.0.0", func(l *slog.Logger) *Greeter { return &Greeter{l.With("module", "greeter")} }),
		titan.Invoke(func(x *netron.Netron, p trace.TracerProvider) { n, tp = x, p }),
	)
	if _, ok := tp.(*sdktrace.TracerProvider); !ok {
		t.Fatalf("the app's TracerProvider is a %T, want the SDK's", tp)
	}

	clientSpans := tracetest.NewInMemoryExporter()
	client := tracedNetron(t, clientSpans, 1)
	peer := dial(t, client, n.Addrs()[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := netron.CallUnary[string](ctx, peer, "greeter@1.0.0", "greet", "ada"); err != nil || got != "hello ada" {
		t.Fatalf("greet: %q, %v", got, err)
	}
	_, err := peer.Call(ctx, "greeter@1.0.0", "greet", "")
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("greet without a name: %v", err)
	}

	if err := tp.(*sdktrace.TracerProvider).ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	client2 := waitSpans(t, clientSpans, 2)
	server := waitSpans(t, appSpans, 2)
	for i, s := range server {
		c := client2[i]
		if s.SpanKind != trace.SpanKindServer || s.Parent.SpanID() != c.SpanContext.SpanID() || s.SpanContext.TraceID() != c.SpanContext.TraceID() {
			t.Errorf("server span %d: %s, parent %s in trace %s; want the child of client span %s of trace %s",
				i, s.SpanKind, s.Parent.SpanID(), s.SpanContext.TraceID(), c.SpanContext.SpanID(), c.SpanContext.TraceID())
		}
		if v, _ := s.Resource.Set().Value("service.name"); v.AsString() != "greeter-app" {
			t.Errorf("server span %d: service.name %q", i, v.AsString())
		}
		if attr(s, "netron.transport") != "tcp" {
			t.Errorf("server span %d: attributes %v", i, s.Attributes)
		}
	}
	if tid, sid := netron.TraceOf(err); tid != server[1].SpanContext.TraceID().String() || sid != server[1].SpanContext.SpanID().String() {
		t.Errorf("the error carries trace %q span %q, want the server span's %s %s", tid, sid, server[1].SpanContext.TraceID(), server[1].SpanContext.SpanID())
	}

	var records []map[string]any
	for line := range strings.Lines(logs.String()) {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == "greeting" {
			records = append(records, r)
		}
	}
	if len(records) != 2 {
		t.Fatalf("%d greeting records, want 2:\n%s", len(records), logs.String())
	}
	for i, r := range records {
		if r[logger.TraceIDKey] != server[i].SpanContext.TraceID().String() || r[logger.SpanIDKey] != server[i].SpanContext.SpanID().String() {
			t.Errorf("record %d: %v; want trace_id %s span_id %s", i, r, server[i].SpanContext.TraceID(), server[i].SpanContext.SpanID())
		}
	}
}

// TestModuleNonePassesContextOn: with the default exporter, none, an app
// makes no spans but its methods' onward calls continue the caller's
// trace.
func TestModuleNonePassesContextOn(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	back := tracedNetron(t, exp, 1)
	if err := back.Register("middle", "1.0.0", &Relay{name: "middle"}); err != nil {
		t.Fatal(err)
	}
	backAddr := listen(t, back, "tcp://127.0.0.1:0")

	front := &Relay{name: "front", target: "middle@1.0.0"}
	var n *netron.Netron
	var tp trace.TracerProvider
	testsrv.StartApp(t,
		appConfig("netron.listen=tcp://127.0.0.1:0"),
		titan.Service("front", "1.0.0", func() *Relay { return front }),
		titan.Invoke(func(x *netron.Netron, p trace.TracerProvider) { n, tp = x, p }),
	)
	if _, ok := tp.(*sdktrace.TracerProvider); ok {
		t.Fatal("exporter none built an SDK provider")
	}
	front.next = dial(t, n, backAddr)

	client := tracedNetron(t, exp, 1)
	peer := dial(t, client, n.Addrs()[0])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if got, err := netron.CallUnary[string](ctx, peer, "front@1.0.0", "relay", "x"); err != nil || got != "front:middle:x" {
		t.Fatalf("relay: %q, %v", got, err)
	}
	// The client's span, then back's server span as its child: the app
	// in between passed the context on without a span of its own.
	chain, err := chainOf(waitSpans(t, exp, 2))
	if err != nil {
		t.Fatal(err)
	}
	if chain[0].SpanKind != trace.SpanKindClient || chain[1].SpanKind != trace.SpanKindServer || chain[1].Name != "middle@1.0.0/relay" {
		t.Errorf("spans %s %s, %s %s", chain[0].SpanKind, chain[0].Name, chain[1].SpanKind, chain[1].Name)
	}
}

// TestModuleConfigErrors: an exporter the program does not link, or does
// not know, and a ratio out of range fail start-up, naming the key.
func TestModuleConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		set  string
		want []string
	}{
		{"tracing.exporter=otlphttp", []string{"tracing.exporter", `import _ "github.com/titanframework/titan/modules/tracing/otlphttp"`}},
		{"tracing.exporter=stdout", []string{"tracing.exporter", `import _ "github.com/titanframework/titan/modules/tracing/stdout"`}},
		{"tracing.exporter=jaeger", []string{"tracing.exporter", "no such exporter", "none, test-memory"}},
		{"tracing.ratio=1.5", []string{"tracing.ratio"}},
		{"tracing.ratio=-0.1", []string{"tracing.ratio"}},
	} {
		t.Run(tc.set, func(t *testing.T) {
			app := titan.New(appConfig(tc.set))
			err := app.Err()
			if err == nil {
				err = app.Start(context.Background())
				_ = app.Stop(context.Background())
			}
			if err == nil {
				t.Fatal("the app started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestModuleGlobal: with tracing.global the app's provider is
// OpenTelemetry's global while the app runs, and only then.
func TestModuleGlobal(t *testing.T) {
	var tp trace.TracerProvider
	app := titan.New(appConfig("tracing.exporter=test-memory", "tracing.global=true"),
		titan.Invoke(func(p trace.TracerProvider) { tp = p }))
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != tp {
		t.Errorf("the global provider is a %T while the app runs", otel.GetTracerProvider())
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok {
		t.Error("the app's provider outlives the app as the global one")
	}
}

// TestModuleGlobalTwoApps: of two apps in one process with tracing.global,
// the one that stops first leaves the other's provider the global one
// while that app runs.
func TestModuleGlobalTwoApps(t *testing.T) {
	ctx := context.Background()
	var first, second trace.TracerProvider
	a := titan.New(appConfig("tracing.exporter=test-memory", "tracing.global=true"),
		titan.Invoke(func(p trace.TracerProvider) { first = p }))
	b := titan.New(appConfig("tracing.exporter=test-memory", "tracing.global=true"),
		titan.Invoke(func(p trace.TracerProvider) { second = p }))
	startBothStopFirst(t, a, b)
	if got := otel.GetTracerProvider(); got != second {
		t.Errorf("the first app's stop left a %T as the global provider while the second runs", got)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := otel.GetTracerProvider().(*sdktrace.TracerProvider); ok || first == second {
		t.Error("an app's provider outlives the apps as the global one")
	}
}

// startBothStopFirst starts a, then b, and stops a: two apps of one
// process whose lives overlap.
func startBothStopFirst(t *testing.T, a, b *titan.App) {
	t.Helper()
	ctx := context.Background()
	for _, step := range []func(context.Context) error{a.Start, b.Start, a.Stop} {
		if err := step(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModuleGlobalTwoAppsWithoutExporter: of two apps in one process with
// tracing.global and no exporter, the one that stops first leaves the
// W3C propagator the global one while the other runs.
func TestModuleGlobalTwoAppsWithoutExporter(t *testing.T) {
	ctx := context.Background()
	a := titan.New(appConfig("tracing.global=true"))
	b := titan.New(appConfig("tracing.global=true"))
	startBothStopFirst(t, a, b)
	if got := otel.GetTextMapPropagator().Fields(); !slices.Contains(got, "traceparent") {
		t.Errorf("the first app's stop left a global propagator of fields %v while the second runs", got)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := otel.GetTextMapPropagator().Fields(); len(got) != 0 {
		t.Errorf("after both stops, the global propagator has fields %v, want none", got)
	}
}
