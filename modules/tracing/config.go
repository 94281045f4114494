package tracing

import (
	"fmt"
	"math"
)

// Config is the `tracing` configuration section:
//
//	tracing:
//	  exporter: otlphttp          # none (default), stdout, otlphttp, or one registered by name
//	  ratio: 0.1                  # share of new traces sampled (default 1)
//	  endpoint: http://collector:4318
//	  serviceName: billing
type Config struct {
	// Exporter names where spans go: "none" (the default) makes no spans
	// of its own but still passes a caller's trace context on to the
	// calls a method makes; other names are exporters registered with
	// [RegisterExporter] ("stdout" and "otlphttp" by Titan's packages of
	// those names, linked when imported).
	Exporter string `json:"exporter" jsonschema:"default=none,description=Where spans go: none (default; trace context still passed on) or stdout or otlphttp or an exporter registered by name"`
	// Ratio is the share of new traces that are sampled, from 0 to 1. A
	// call that comes with a trace context follows its caller's decision.
	Ratio float64 `json:"ratio" jsonschema:"minimum=0,maximum=1,default=1,description=Share of new traces sampled (0 to 1); calls with a caller's trace follow its decision"`
	// Endpoint is the exporter's destination, such as the collector URL
	// of otlphttp (empty: the exporter's default and its OTEL_* variables).
	// The stdout exporter takes none.
	Endpoint string `json:"endpoint,omitempty" jsonschema:"description=Destination of the exporter (otlphttp: collector URL; default from OTEL_EXPORTER_OTLP_* or http://localhost:4318)"`
	// ServiceName is the service.name resource attribute of the spans
	// (empty: OTEL_SERVICE_NAME, else unknown_service:<executable>).
	ServiceName string `json:"serviceName,omitempty" jsonschema:"description=service.name of the spans (default OTEL_SERVICE_NAME or unknown_service:<executable>)"`
	// Global also installs the app's TracerProvider and the W3C
	// propagator as OpenTelemetry's globals (otel.SetTracerProvider)
	// while the app runs, for libraries that only use those.
	Global bool `json:"global,omitempty" jsonschema:"description=Also install the provider and W3C propagator as OpenTelemetry's globals while the app runs"`
}

// ExporterNone is the exporter name that turns span making off.
const ExporterNone = "none"

// DefaultConfig returns the defaults of the section: no exporter, every
// new trace sampled.
func DefaultConfig() Config { return Config{Exporter: ExporterNone, Ratio: 1} }

// Validate checks the section; errors name the key.
func (c Config) Validate() error {
	if math.IsNaN(c.Ratio) || c.Ratio < 0 || c.Ratio > 1 {
		return fmt.Errorf("tracing.ratio: %v is not between 0 and 1", c.Ratio)
	}
	return nil
}
