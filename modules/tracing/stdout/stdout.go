package stdout

import (
	"context"
	"fmt"
	"io"
	"os"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan/modules/tracing"
)

// Name is the exporter's name in tracing.exporter.
const Name = "stdout"

func init() { tracing.RegisterExporter(Name, New) }

// New returns the exporter writing to the standard output. It fails when
// tracing.endpoint is set: the spans would not go there.
func New(_ context.Context, cfg tracing.Config) (sdktrace.SpanExporter, error) {
	if cfg.Endpoint != "" {
		return nil, fmt.Errorf("tracing.endpoint %q: the stdout exporter writes to the standard output and takes no endpoint; remove the key, or name the exporter that sends there (otlphttp)", cfg.Endpoint)
	}
	return NewWriter(os.Stdout), nil
}

// NewWriter returns an exporter writing each span to w as one JSON object
// per line; w is written by one goroutine at a time.
func NewWriter(w io.Writer) sdktrace.SpanExporter {
	exp, _ := stdouttrace.New(stdouttrace.WithWriter(w)) // fails only for options it is not given
	return exp
}
