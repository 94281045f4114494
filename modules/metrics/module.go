package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/health"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	httpgw "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/resilience"
)

// Module is the metrics module, in every app titan.New builds: the
// `metrics` configuration section, the calls' [Interceptor] in the app's
// Netron, the app's Prometheus registry (provided as
// prometheus.Registerer and prometheus.Gatherer, for the app's own
// series) and its [*health.Checker] (with the built-in checks and every
// [health.Check] of the group health.CheckGroup), served at /metrics,
// /healthz and /readyz by the admin server (metrics.listen,
// titan.Admin) and under /_titan/ by every http:// listener
// (metrics.mount). /readyz fails until the Netron listens, whichever
// checks metrics.health.critical names. When the app stops, /readyz
// fails first, for metrics.drainDelay, before the Netron closes its
// listeners.
var Module = fx.Module("titan.metrics",
	config.AsSection("metrics", DefaultConfig()),
	logger.Decorate("metrics"),
	fx.Provide(fx.Private, newAdmin),
	fx.Provide(
		func(a *admin) prometheus.Registerer { return a.registerer() },
		func(a *admin) prometheus.Gatherer { return a.gatherer() },
		func(a *admin) *health.Checker { return a.checker },
	),
	fx.Provide(fx.Annotate(interceptors, fx.ResultTags(`group:"`+netron.InterceptorGroup+`,flatten"`))),
	fx.Provide(fx.Annotate(options, fx.ResultTags(`group:"`+netron.OptionGroup+`,flatten"`))),
	fx.Invoke(observe),
	// The app's readiness is the health its registry entries carry.
	fx.Provide(newHealthSource),
	// The breakers of titan.CircuitBreaker, through resilience's observers.
	fx.Provide(fx.Private, newResilienceBreakers),
	fx.Provide(fx.Annotate(func(b *resilienceBreakers) resilience.StateObserver { return b.observe },
		fx.ResultTags(`group:"`+resilience.ObserverGroup+`"`))),
	fx.Provide(fx.Annotate(func(b *resilienceBreakers) Breakers { return b },
		fx.ResultTags(`group:"`+BreakerGroup+`"`))),
)

type adminParams struct {
	fx.In
	Config    *config.Config
	Log       *slog.Logger
	Lifecycle fx.Lifecycle
}

// newAdmin reads the section, makes the registry, the interceptor and the
// checker, and serves the admin server while the app runs. The Netron's
// options depend on it (options), so its hooks come before the Netron's:
// the admin server starts before the listeners open and stops after they
// drained.
func newAdmin(p adminParams) (*admin, error) {
	cfg, err := config.Section[Config](p.Config, "metrics")
	if err != nil {
		return nil, err
	}
	if key, err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s (from %s): %w", key, p.Config.Source(key), err)
	}
	checker, err := health.NewChecker(cfg.Health.Timeout)
	if err != nil {
		return nil, err
	}
	checker.Starting() // until the Netron listens: see listened
	a := &admin{cfg: cfg, source: p.Config.Source("metrics.listen"), log: p.Log, checker: checker}
	if cfg.Enabled {
		a.reg = prometheus.NewRegistry()
		if err := a.reg.Register(collectors.NewGoCollector()); err != nil {
			return nil, err
		}
		if err := a.reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, err
		}
		opts := []Option{WithMaxMethods(cfg.MaxMethods)}
		if len(cfg.Buckets) > 0 {
			opts = append(opts, WithBuckets(cfg.Buckets...))
		}
		if a.ic, err = NewInterceptor(a.reg, opts...); err != nil {
			return nil, err
		}
	}
	p.Lifecycle.Append(fx.Hook{OnStart: a.start, OnStop: a.stop})
	return a, nil
}

// newHealthSource gives discovery the app's readiness for its entries.
// Its start hook comes after the Netron's (it takes the Netron) and
// before discovery's (which takes the HealthSource): the transports
// check counts the listeners the Netron opened before the app registers,
// so that the first registration says what the readiness checks say
// rather than that the app is still starting.
func newHealthSource(lc fx.Lifecycle, a *admin, n *netron.Netron) discovery.HealthSource {
	lc.Append(fx.StartHook(func() { a.listened(n) }))
	return a.registryHealth
}

// registryHealth is the app's health for discovery's entries: unhealthy
// while a critical readiness check fails (/readyz answers 503),
// draining once the app stops, else healthy. The discovery check does
// not count: an entry cannot say that it is missing, and before the
// app's first registration that check fails. The starting result does:
// discovery first asks after the HealthSource's start hook has ended it,
// and an app asked before is indeed not ready. The checks get half the
// time left to ctx: the heartbeat that asks writes the answer to the
// registry under the same ctx, and a check that does not answer must not
// leave that write without time (the entries would expire).
func (a *admin) registryHealth(ctx context.Context) discovery.Health {
	if a.checker.Draining() {
		return discovery.Draining
	}
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(d)/2))
		defer cancel()
	}
	for name, r := range a.checker.Ready(ctx).Checks {
		if !r.Healthy && r.Critical && name != health.RegisteredCheck {
			return discovery.Unhealthy
		}
	}
	return discovery.Healthy
}

// listened makes the transports check count the Netron's listeners and
// ends the checker's starting result, the first time it is called: once
// the Netron has started.
func (a *admin) listened(n *netron.Netron) {
	c := health.Transports(n, len(n.Addrs()))
	if a.listening.CompareAndSwap(nil, &c) {
		a.checker.Started()
	}
}

// registerer is where the app registers series of its own; with metrics
// off, a registry nobody serves.
func (a *admin) registerer() prometheus.Registerer {
	if a.reg == nil {
		return prometheus.NewRegistry()
	}
	return a.reg
}

// gatherer gives the app's series; with metrics off, none.
func (a *admin) gatherer() prometheus.Gatherer {
	if a.reg == nil {
		return prometheus.NewRegistry()
	}
	return a.reg
}

// interceptors is the calls' interceptor, when metrics are on.
func interceptors(a *admin) []netron.Interceptor {
	if a.ic == nil {
		return nil
	}
	return []netron.Interceptor{a.ic}
}

// options mounts the endpoints on the app's HTTP gateways, when
// metrics.mount is on.
func options(a *admin) []netron.Option {
	if !a.cfg.Mount {
		return nil
	}
	return []netron.Option{httpgw.WithMounts(a.mounts()...)}
}

type observeParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    *config.Config
	Log       *slog.Logger
	Admin     *admin
	Netron    *netron.Netron
	Innermost netron.Innermost   `optional:"true"`
	Registry  discovery.Registry `optional:"true"`
	Checks    []health.Check     `group:"titan.health.checks"`
	Breakers  []Breakers         `group:"titan.metrics.breakers"`
}

// observe registers what is read from the app's Netron at scrape time
// (peers, the response cache, breakers), adds the checks, and makes
// /readyz fail first thing when the app stops: its hooks come after the
// Netron's and discovery's, so its stop runs before theirs.
func observe(p observeParams) error {
	a := p.Admin
	if err := checkBreakers(p.Breakers); err != nil {
		return err
	}
	if a.reg != nil {
		cs := []prometheus.Collector{newPeersCollector(p.Netron), newTrafficCollector(p.Netron), newBreakerCollector(p.Breakers)}
		for _, ic := range p.Innermost {
			if c, ok := ic.(*cache.Cache); ok {
				cs = append(cs, cacheCollectors(c)...)
			}
		}
		for _, c := range cs {
			if err := a.reg.Register(c); err != nil {
				return fmt.Errorf("metrics: %w", err)
			}
		}
	}

	hc := a.cfg.Health
	checks := []health.Check{
		{Name: "transports", Run: func(ctx context.Context) error {
			c := a.listening.Load()
			if c == nil {
				return errors.New("not listening yet: the app is starting")
			}
			return c.Run(ctx)
		}},
		health.Peers(p.Netron),
		health.Memory(hc.MaxMemory),
		health.Goroutines(hc.MaxGoroutines),
		health.SchedulerLatency(hc.MaxSchedulerLatency),
	}
	if p.Registry != nil {
		dc, err := config.Section[discovery.Config](p.Config, "discovery")
		if err == nil && (dc.Register == nil || *dc.Register) {
			checks = append(checks, health.Registered(p.Netron, p.Registry, dc.Advertise))
		}
	}
	for i := range checks {
		checks[i].Critical = slices.Contains(hc.Critical, checks[i].Name)
	}
	if err := a.checker.Add(append(checks, p.Checks...)...); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}

	p.Lifecycle.Append(fx.Hook{
		OnStart: func(context.Context) error {
			a.listened(p.Netron) // when discovery did not take the HealthSource
			return nil
		},
		OnStop: func(ctx context.Context) error {
			a.checker.Drain()
			if d := a.cfg.DrainDelay; d > 0 {
				p.Log.Info("stopping: /readyz fails before the listeners close", "drain_delay", d)
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
				}
			}
			return nil
		},
	})
	return nil
}
