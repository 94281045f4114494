package tracing

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
)

// Linking this package adds Module to every Titan app of the program.
func init() { linked.Register("titan.tracing", Module) }

// Module is the tracing module: the `tracing` configuration section, the
// app's [trace.TracerProvider] (for spans of the app's own), and an
// [Interceptor] on its Netron. Importing the package adds it to every
// titan app:
//
//	import _ "github.com/titanframework/titan/modules/tracing"
//
// With the default exporter, none, no spans are made and a caller's trace
// context passes through to the calls a method makes; name an exporter
// (tracing.exporter) and import its package to send spans. The provider
// is the app's own, started and shut down (flushing its spans) with the
// app; it becomes OpenTelemetry's global only with tracing.global.
var Module = fx.Module("titan.tracing",
	config.AsSection("tracing", DefaultConfig()),
	logger.Decorate("tracing"),
	fx.Provide(fx.Private, newTracing),
	fx.Provide(func(a appTracing) trace.TracerProvider { return a.tp }),
	fx.Provide(fx.Annotate(
		func(a appTracing) netron.Interceptor { return NewInterceptor(a.tp, WithRootRatio(a.ratio)) },
		fx.ResultTags(`group:"`+netron.InterceptorGroup+`"`),
	)),
)

// appTracing is the app's TracerProvider and the sampling ratio of its
// new traces (tracing.ratio), which the interceptor is told.
type appTracing struct {
	tp    trace.TracerProvider
	ratio float64
}

type providerParams struct {
	fx.In
	Config    *config.Config
	Log       *slog.Logger
	Lifecycle fx.Lifecycle
}

// newTracing builds the app's TracerProvider from the `tracing` section;
// its exporter starts and stops with the app.
func newTracing(p providerParams) (appTracing, error) {
	cfg, err := config.Section[Config](p.Config, "tracing")
	if err != nil {
		return appTracing{}, err
	}
	if err := cfg.Validate(); err != nil {
		return appTracing{}, fmt.Errorf("%w (from %s)", err, p.Config.Source("tracing.ratio"))
	}
	prov, err := newProvider(cfg)
	if err != nil {
		return appTracing{}, fmt.Errorf("%w (from %s)", err, p.Config.Source("tracing.exporter"))
	}
	prov.log = p.Log
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			if err := prov.start(ctx); err != nil {
				return err
			}
			if cfg.Exporter != ExporterNone {
				p.Log.Info("sending spans", "exporter", cfg.Exporter, "ratio", cfg.Ratio)
			}
			return nil
		},
		OnStop: prov.stop,
	})
	return appTracing{tp: prov.tracerProvider(), ratio: cfg.Ratio}, nil
}
