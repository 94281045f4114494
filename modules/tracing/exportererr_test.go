package tracing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/tracing"
)

func init() {
	tracing.RegisterExporter("test-refusing", func(context.Context, tracing.Config) (sdktrace.SpanExporter, error) {
		return nil, errors.New("no collector")
	})
}

// An exporter registered by name that fails to start fails the app's
// start with an error that names tracing.exporter and the exporter, not
// only the exporter's own words.
func TestExporterStartErrorNamesTheExporter(t *testing.T) {
	err := titan.New(appConfig("tracing.exporter=test-refusing")).Start(context.Background())
	if err == nil {
		t.Fatal("the app started")
	}
	if !strings.Contains(err.Error(), "tracing.exporter test-refusing: no collector") {
		t.Errorf("start: %q; want it to say %q", err, "tracing.exporter test-refusing: no collector")
	}
}
