package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg tracing.Config
		ok  bool
	}{
		{tracing.DefaultConfig(), true},
		{tracing.Config{Exporter: "stdout", Ratio: 0}, true},
		{tracing.Config{Ratio: 1.01}, false},
		{tracing.Config{Ratio: -1}, false},
		{tracing.Config{Ratio: math.NaN()}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "tracing.ratio") {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
	if d := tracing.DefaultConfig(); d.Exporter != tracing.ExporterNone || d.Ratio != 1 {
		t.Errorf("defaults %+v", d)
	}
}

func TestRegisterExporterRefuses(t *testing.T) {
	f := func(context.Context, tracing.Config) (sdktrace.SpanExporter, error) { return discard{}, nil }
	for _, tc := range []struct {
		name string
		f    tracing.ExporterFunc
	}{{"test-memory", f}, {"", f}, {"none", f}, {"nil-func", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tracing.RegisterExporter(tc.name, tc.f)
		})
	}
}

// TestWithTrace: the trace annotation of an error is seen through by
// Error, errors.Is/As and CodeOf, and TraceOf reads it.
func TestWithTrace(t *testing.T) {
	sentinel := errors.New("plain")
	coded := netron.Errorf(netron.CodeNotFound, "no such thing")
	for _, err := range []error{sentinel, coded, fmt.Errorf("wrapped: %w", coded)} {
		tr := netron.WithTrace(err, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
		if tr.Error() != err.Error() || !errors.Is(tr, err) || netron.CodeOf(tr) != netron.CodeOf(err) {
			t.Errorf("%v: annotated %q, code %s", err, tr, netron.CodeOf(tr))
		}
		var ne *netron.Error
		if errors.As(err, &ne) != errors.As(tr, &ne) {
			t.Errorf("%v: errors.As differs", err)
		}
		if tid, sid := netron.TraceOf(tr); tid != "4bf92f3577b34da6a3ce929d0e0e4736" || sid != "00f067aa0ba902b7" {
			t.Errorf("%v: TraceOf %q %q", err, tid, sid)
		}
		if tid, sid := netron.TraceOf(err); tid != "" || sid != "" {
			t.Errorf("%v: TraceOf of a plain error %q %q", err, tid, sid)
		}
	}
	if netron.WithTrace(nil, "a", "b") != nil {
		t.Error("WithTrace(nil) is not nil")
	}
}
