package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/internal/logevery"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Sampler returns the sampler of a sampling ratio: a call that comes with
// a caller's trace context follows the caller's decision; a new trace is
// sampled with probability ratio (from its trace id, so that every
// process with the same ratio decides alike). A ratio that is not a
// number samples none, as 0 does.
func Sampler(ratio float64) sdktrace.Sampler {
	if math.IsNaN(ratio) {
		ratio = 0 // the SDK's would depend on the platform
	}
	return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))
}

// provider is an app's TracerProvider and what starting and stopping it
// takes.
type provider struct {
	cfg    Config
	sdk    *sdktrace.TracerProvider // nil for exporter none
	export ExporterFunc
	// abort ends the exports still running when stop gives up on them;
	// nil before start.
	abort context.CancelFunc
	// log receives the exports that failed; nil discards them.
	log *slog.Logger
}

// newProvider builds the provider cfg describes. It starts nothing: the
// exporter is built when the app starts (start).
func newProvider(cfg Config) (*provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Exporter == ExporterNone || cfg.Exporter == "" {
		return &provider{cfg: cfg}, nil
	}
	f, err := exporterFor(cfg.Exporter)
	if err != nil {
		return nil, err
	}
	res := resource.Default()
	if cfg.ServiceName != "" {
		if res, err = resource.Merge(res, resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName))); err != nil {
			return nil, err
		}
	}
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSampler(Sampler(cfg.Ratio)), sdktrace.WithResource(res))
	return &provider{cfg: cfg, sdk: sdk, export: f}, nil
}

// tracerProvider returns the provider's TracerProvider: the SDK's, or a
// no-op one for exporter none.
func (p *provider) tracerProvider() trace.TracerProvider {
	if p.sdk == nil {
		return noop.NewTracerProvider()
	}
	return p.sdk
}

// start builds the exporter and sends the spans to it in batches.
func (p *provider) start(ctx context.Context) error {
	if p.sdk != nil {
		exp, err := p.export(ctx, p.cfg)
		if err != nil {
			// An exporter registered by someone else speaks of itself
			// only: the app's start must say which setting failed.
			return fmt.Errorf("tracing.exporter %s: %w", p.cfg.Exporter, err)
		}
		if exp == nil {
			return errors.New("tracing.exporter " + p.cfg.Exporter + ": the exporter's function returned none")
		}
		stopped, abort := context.WithCancel(context.Background())
		p.abort = abort
		p.sdk.RegisterSpanProcessor(sdktrace.NewBatchSpanProcessor(&abortable{SpanExporter: exp, stopped: stopped, log: p.log, name: p.cfg.Exporter}))
	}
	if p.cfg.Global {
		globalOwner.Store(p)
		otel.SetTracerProvider(p.tracerProvider())
		otel.SetTextMapPropagator(propagation.TraceContext{})
	}
	return nil
}

// globalOwner is the provider that installed OpenTelemetry's globals last
// (tracing.global): the no-op providers of two apps without an exporter
// are equal, so the provider alone does not tell whose they are.
var globalOwner atomic.Pointer[provider]

// stop leaves OpenTelemetry's globals as an app that never set them
// finds them (no-op), unless another app has installed its own since,
// and flushes and shuts the exporter down. It may run after a start that
// failed. The flush takes at most half the time left to ctx, so that a
// collector that does not answer leaves the other half to the rest of
// the app's stop; the spans not sent by then are dropped, and the error
// says so.
func (p *provider) stop(ctx context.Context) error {
	if p.cfg.Global && globalOwner.CompareAndSwap(p, nil) && otel.GetTracerProvider() == p.tracerProvider() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	}
	if p.sdk == nil {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Until(deadline)/2)
		defer cancel()
	}
	err := p.sdk.Shutdown(ctx)
	if p.abort != nil {
		p.abort()
	}
	if err != nil {
		return fmt.Errorf("tracing.exporter %s: spans not sent when the app stopped were dropped: %w", p.cfg.Exporter, err)
	}
	return nil
}

// abortable is a span exporter whose exports end when stopped ends (the
// batch processor's last export runs under no deadline of the app's, and
// would go on after the app stopped), and whose failures go to the app's
// log rather than to OpenTelemetry's error handler, which prints them on
// stderr: the first one, then at most one record per logevery.Interval,
// counting the failures in between.
type abortable struct {
	sdktrace.SpanExporter
	stopped context.Context
	log     *slog.Logger
	name    string

	failed logevery.Limiter // the log records of failed exports
}

// ExportSpans implements [sdktrace.SpanExporter].
func (e *abortable) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(e.stopped, cancel)
	defer stop()
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil || e.log == nil {
		return err
	}
	ok, missed := e.failed.Allow(time.Now())
	if !ok {
		return nil
	}
	attrs := []any{"exporter", e.name, "spans", len(spans), "error", err}
	if missed > 0 {
		attrs = append(attrs, "failedSinceLastRecord", missed)
	}
	e.log.Warn("could not send spans; they are dropped", attrs...)
	return nil
}
