package stdout

import (
	"context"
	"io"
	"os"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan/modules/tracing"
)

// Name is the exporter's name in tracing.exporter.
const Name = "stdout"

func init() { tracing.RegisterExporter(Name, New) }

// New returns the exporter writing to the standard output; tracing.endpoint
// is not used.
func New(context.Context, tracing.Config) (sdktrace.SpanExporter, error) {
	return NewWriter(os.Stdout), nil
}

// NewWriter returns an exporter writing each span to w as one JSON object
// per line; w is written by one goroutine at a time.
func NewWriter(w io.Writer) sdktrace.SpanExporter {
	exp, _ := stdouttrace.New(stdouttrace.WithWriter(w)) // fails only for options it is not given
	return exp
}
