package logger_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/titanframework/titan/modules/logger"
)

// spanContext returns ctx carrying a span context with fixed ids.
func spanContext(ctx context.Context) (context.Context, trace.SpanContext) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	return trace.ContextWithSpanContext(ctx, sc), sc
}

// TestRecordsCarryTraceIDs: a record logged with a context that carries a
// span has its trace and span ids, whatever the logger (root, module,
// With); one logged without has neither.
func TestRecordsCarryTraceIDs(t *testing.T) {
	l, buf := newLogger(t, logger.Config{Format: logger.FormatJSON, Level: "debug"})
	ctx, sc := spanContext(context.Background())
	l.Root().InfoContext(ctx, "root")
	l.For("netron").With("peer", "p1").WarnContext(ctx, "module")
	l.For("netron").Info("no context")
	l.For("netron").InfoContext(context.Background(), "no span")
	l.Root().InfoContext(trace.ContextWithSpanContext(ctx, trace.SpanContext{}), "invalid span")

	recs := records(t, buf.Bytes())
	if len(recs) != 5 {
		t.Fatalf("%d records:\n%s", len(recs), buf)
	}
	for i, r := range recs {
		withIDs := i < 2
		tid, sid := r[logger.TraceIDKey], r[logger.SpanIDKey]
		if withIDs && (tid != sc.TraceID().String() || sid != sc.SpanID().String()) ||
			!withIDs && (tid != nil || sid != nil) {
			t.Errorf("record %q: trace_id %v span_id %v", r["msg"], tid, sid)
		}
	}
	if recs[1]["module"] != "netron" || recs[1]["peer"] != "p1" {
		t.Errorf("the module record lost its attributes: %v", recs[1])
	}
}

// TestTraceHandlerAlone: the handler wraps any slog.Handler.
func TestTraceHandlerAlone(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logger.NewTraceHandler(slog.NewJSONHandler(&buf, nil))).With("a", 1)
	ctx, sc := spanContext(context.Background())
	log.InfoContext(ctx, "x")
	recs := records(t, buf.Bytes())
	if len(recs) != 1 || recs[0][logger.TraceIDKey] != sc.TraceID().String() || recs[0]["a"] != float64(1) {
		t.Fatalf("records %v", recs)
	}
}

func BenchmarkTraceHandler(b *testing.B) {
	l, err := logger.New(logger.Config{Format: logger.FormatJSON}, logger.WithWriter(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	log := l.For("netron")
	ctx, _ := spanContext(context.Background())
	b.Run("no-span", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.InfoContext(context.Background(), "frame", "id", 1)
		}
	})
	b.Run("span", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			log.InfoContext(ctx, "frame", "id", 1)
		}
	})
}
