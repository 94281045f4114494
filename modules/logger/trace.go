package logger

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// The keys of the attributes [NewTraceHandler] adds.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// NewTraceHandler returns a handler that adds trace_id and span_id (lowercase
// hex, as in W3C traceparent) to each record whose context carries a valid
// OpenTelemetry span context (the span of the call being served, when the
// tracing module is linked), then hands the record to next. Records
// without one pass unchanged, at the cost of one context lookup. Under a
// logger's WithGroup the attributes land in the group, as every attribute
// of the record does.
//
// Every [Logger] installs it in front of its sinks; it is exported for
// handlers built outside one.
func NewTraceHandler(next slog.Handler) slog.Handler { return traceHandler{next} }

type traceHandler struct{ next slog.Handler }

func (h traceHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			r = r.Clone() // the caller's record may be shared with other handlers
			r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()), slog.String(SpanIDKey, sc.SpanID().String()))
		}
	}
	return h.next.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.next.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.next.WithGroup(name)}
}
