package tracing

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ExporterFunc builds the span exporter an app's configuration names. It
// is called when the app starts, with the start's context and the app's
// `tracing` section; the exporter is shut down when the app stops. Its
// error fails the start, named "tracing.exporter <name>: ...".
type ExporterFunc func(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error)

var exporters = struct {
	sync.Mutex
	m map[string]ExporterFunc
}{m: map[string]ExporterFunc{}}

// RegisterExporter makes the exporter name available to tracing.exporter.
// It is meant for the init function of the exporter's package, which an
// app links by importing it:
//
//	import _ "github.com/titanframework/titan/modules/tracing/otlphttp"
//
// It panics when name is empty, "none" or already registered, or f is nil:
// two packages claiming one name is a build mistake.
func RegisterExporter(name string, f ExporterFunc) {
	exporters.Lock()
	defer exporters.Unlock()
	if _, dup := exporters.m[name]; dup || name == "" || name == ExporterNone || f == nil {
		panic(fmt.Sprintf("tracing.RegisterExporter(%q): a name registered twice, empty, reserved or without a function", name))
	}
	exporters.m[name] = f
}

// exporterPackages names the package of each of Titan's own exporters,
// for the error of one the program does not import.
var exporterPackages = map[string]string{
	"stdout":   "github.com/titanframework/titan/modules/tracing/stdout",
	"otlphttp": "github.com/titanframework/titan/modules/tracing/otlphttp",
}

// exporterFor returns the registered ExporterFunc of name, or an error
// naming the import that links it.
func exporterFor(name string) (ExporterFunc, error) {
	exporters.Lock()
	f := exporters.m[name]
	known := slices.Sorted(maps.Keys(exporters.m))
	exporters.Unlock()
	if f != nil {
		return f, nil
	}
	if pkg := exporterPackages[name]; pkg != "" {
		return nil, fmt.Errorf("tracing.exporter %q: the exporter's package is not linked into this program; add import _ %q", name, pkg)
	}
	return nil, fmt.Errorf("tracing.exporter %q: no such exporter (linked: %s)", name, strings.Join(append([]string{ExporterNone}, known...), ", "))
}
