package netron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"

	// The transports every app has.
	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/ipc"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
	_ "github.com/titanframework/titan/modules/netron/transport/pipe"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
	_ "github.com/titanframework/titan/modules/netron/transport/unix"
	_ "github.com/titanframework/titan/modules/netron/transport/ws"
)

// Value groups the netron module collects.
const (
	ServiceGroup     = "titan.netron.services"
	InterceptorGroup = "titan.netron.interceptors"
	ListenGroup      = "titan.netron.listen"
	OptionGroup      = "titan.netron.options"
	// ResolverGroup collects the Resolvers asked after netron.remotes
	// (discovery's registry).
	ResolverGroup = "titan.netron.resolvers"
)

// ServiceSpec is a service to expose, as collected from the ServiceGroup.
type ServiceSpec struct {
	Name    string
	Version string
	Impl    any
	Options []ServiceOption
}

// AsService annotates a constructor returning a ServiceSpec into the
// ServiceGroup.
func AsService(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"`+ServiceGroup+`"`))
}

// Params are what the netron module builds the Netron from.
type Params struct {
	fx.In

	Config       *config.Config
	Log          *slog.Logger
	Lifecycle    fx.Lifecycle
	Shutdowner   fx.Shutdowner
	Services     []ServiceSpec `group:"titan.netron.services"`
	Interceptors []Interceptor `group:"titan.netron.interceptors"`
	Listen       [][]string    `group:"titan.netron.listen"`
	Options      []Option      `group:"titan.netron.options"` // app-wide options (titan.Strict)
	Resolvers    []Resolver    `group:"titan.netron.resolvers"`
	// Transports are the app's own transports (transport.AsTransport).
	Transports []transport.Transport `group:"titan.netron.transports"`
	// Innermost are installed after every other interceptor.
	Innermost Innermost `optional:"true"`
}

// Positioned is an interceptor of the InterceptorGroup that says where it
// goes in the chain, since fx gives a group's values in no set order:
// lower positions are outer (they see a call first and its end last).
// Interceptors that do not say are at position 0, in the order fx gives
// them. The modules' positions: tracing -300 (its span covers every other
// interceptor), metrics -200 (it counts what security refuses), security
// -100; the cache and validation are Innermost, after every other one.
type Positioned interface {
	Interceptor
	Position() int
}

// ordered sorts ics by position (Positioned), stably.
func ordered(ics []Interceptor) []Interceptor {
	pos := func(ic Interceptor) int {
		if p, ok := ic.(Positioned); ok {
			return p.Position()
		}
		return 0
	}
	out := slices.Clone(ics)
	slices.SortStableFunc(out, func(a, b Interceptor) int { return pos(a) - pos(b) })
	return out
}

// Innermost is the chain of interceptors the netron module installs after
// every other one, next to the method, in order. A titan app provides it:
// the response cache (package cache), then contract validation (package
// validate), as the config's netron.cacheSize, netron.cacheBytes and
// netron.skipValidation say.
type Innermost []Interceptor

// Result is what the netron module provides.
type Result struct {
	fx.Out

	Netron *Netron
	Events Events
	// Resolver finds remote services: netron.remotes (a StaticResolver),
	// then the Resolvers of the ResolverGroup (discovery's registry).
	Resolver Resolver
}

// NewFromConfig builds the app's Netron from the `netron` config section,
// registers the services, and listens on netron.listen (plus any
// addresses from the ListenGroup) when the app starts.
func NewFromConfig(p Params) (Result, error) { return newFromConfig(p) }

// moduleResult is what Module provides from the Netron: its Events come
// from newAppEvents, before it.
type moduleResult struct {
	fx.Out

	Netron   *Netron
	Resolver Resolver
}

func newForModule(p Params, bus *eventBus) (moduleResult, error) {
	r, err := newFromConfig(p, withEventBus(bus))
	return moduleResult{Netron: r.Netron, Resolver: r.Resolver}, err
}

func newFromConfig(p Params, extra ...Option) (Result, error) {
	cfg, err := config.Section[Config](p.Config, "netron")
	if err != nil {
		return Result{}, err
	}
	opts := append([]Option{WithInterceptors(ordered(p.Interceptors)...)}, p.Options...)
	opts = append(opts, WithInterceptors(p.Innermost...), WithCustomTransports(p.Transports...))
	opts = append(opts, extra...)
	addrs := slices.Clone(cfg.Listen)
	if inherited := transport.Inherited(); len(inherited) > 0 {
		// Started by a parent (SpawnIPC): serve it, and stop when it is gone.
		addrs = append(addrs, inherited...)
		opts = append(opts, WithParentLost(func() {
			p.Log.Warn("the parent process is gone; stopping")
			_ = p.Shutdowner.Shutdown(fx.ExitCode(1))
		}))
	}
	n, err := New(cfg, p.Log, opts...)
	if ke := (*keyError)(nil); errors.As(err, &ke) {
		return Result{}, fmt.Errorf("netron.%s (from %s)%s", ke.key, p.Config.Source("netron."+ke.key), ke.problem)
	}
	if err != nil {
		return Result{}, err
	}
	for _, s := range p.Services {
		if err := n.Register(s.Name, s.Version, s.Impl, s.Options...); err != nil {
			return Result{}, err
		}
	}
	for _, a := range cfg.Listen {
		if err := n.checkListenAddr(a); err != nil {
			return Result{}, fmt.Errorf("netron.listen (from %s): %w", p.Config.Source("netron.listen"), err)
		}
	}
	for _, l := range p.Listen {
		for _, a := range l {
			if err := n.checkListenAddr(a); err != nil {
				return Result{}, fmt.Errorf("titan.Listen: %w", err)
			}
		}
		addrs = append(addrs, l...)
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			for _, a := range addrs {
				if _, err := n.Listen(ctx, a); err != nil {
					return err
				}
			}
			return nil
		},
		OnStop: n.Stop,
	})
	return Result{Netron: n, Events: n, Resolver: append(Resolvers{StaticResolver(cfg.Remotes)}, p.Resolvers...)}, nil
}

// Module provides the app's *Netron and Events, registers the `netron`
// configuration section, and serves the services of the ServiceGroup.
// Events come before the Netron, so a service's constructor may take them.
var Module = fx.Module("titan.netron",
	config.AsSection("netron", DefaultConfig()),
	logger.Decorate("netron"),
	fx.Provide(fx.Private, newEventBus),
	fx.Provide(func(b *eventBus) Events { return appEvents{b} }),
	fx.Provide(newForModule),
	fx.Invoke(func(*Netron) {}),
)
