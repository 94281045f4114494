package security

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"go.uber.org/fx"

	"github.com/titanframework/titan/internal/clock"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/certs"
	"github.com/titanframework/titan/modules/security/policy"
	"github.com/titanframework/titan/modules/security/ratelimit"
)

func init() { linked.Register(policy.Module, Module) }

// Module is the security module: the `security` configuration section,
// the app's [*Guard] installed in its Netron (authentication, the access
// of callers, the policies of titan.Auth, titan.Public and
// titan.RateLimit), and the TLS of every secure listener and dialer
// (security.tls). Importing the package adds it to every titan app:
//
//	import _ "github.com/titanframework/titan/modules/security"
var Module = fx.Module(policy.Module,
	config.AsSection("security", DefaultConfig()),
	logger.Decorate("security"),
	fx.Provide(newGuard),
	fx.Provide(fx.Annotate(guardOptions, fx.ResultTags(`group:"`+netron.OptionGroup+`,flatten"`))),
	fx.Provide(fx.Annotate(func(g *Guard) netron.Interceptor { return g }, fx.ResultTags(`group:"`+netron.InterceptorGroup+`"`))),
)

type guardParams struct {
	fx.In
	Config        *config.Config
	Log           *slog.Logger
	Lifecycle     fx.Lifecycle
	Authenticator Authenticator `optional:"true"`
	// Now is the clock of titan.WithClock, which the in-process rate
	// limiter reads when the app has one.
	Now clock.Now `optional:"true"`
}

func newGuard(p guardParams) (*Guard, error) {
	cfg, err := config.Section[Config](p.Config, "security")
	if err != nil {
		return nil, err
	}
	o := Options{Log: p.Log, Authenticator: p.Authenticator, Now: p.Now, StartKeySet: true}
	var backend io.Closer // the shared limiter's, when security.rateLimit.backend names one
	if b := cfg.RateLimit.Backend; b != "" && b != "memory" {
		l, closer, err := ratelimit.OpenBackend(context.Background(), b, cfg.RateLimit.URL, cfg.RateLimit.Prefix)
		if err != nil {
			key := "security.rateLimit.backend"
			if errors.Is(err, ratelimit.ErrInvalidURL) {
				key = "security.rateLimit.url"
			}
			return nil, fmt.Errorf("%s (from %s): %w", key, p.Config.Source(key), err)
		}
		o.Limiter, backend = l, closer
	}
	closeBackend := func() error {
		if backend == nil {
			return nil
		}
		return backend.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg, o)
	if err != nil {
		cancel()
		_ = closeBackend()
		return nil, err
	}
	// The key set of security.jwt.jwksURL is fetched, and its refreshes
	// start, when the app starts: a constructor that failed after this one
	// would leave their goroutine running.
	stop := func(context.Context) error {
		cancel()
		g.Close()
		return closeBackend()
	}
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(context.Context) error {
			if err := g.Start(ctx); err != nil {
				_ = stop(ctx) // fx stops only the hooks that started
				return err
			}
			return nil
		},
		OnStop: stop,
	})
	return g, nil
}

// guardOptions are the Netron options of the guard, and the TLS of
// security.tls when any of it is set: a section without a certificate
// (security.tls.ca, serverName) still configures the dialers, which
// verify servers against its CA bundle.
func guardOptions(g *Guard, log *slog.Logger) ([]netron.Option, error) {
	opts := g.Options()
	if g.cfg.TLS != (certs.Config{}) {
		st, err := certs.NewWithLogger(g.cfg.TLS, log)
		if err != nil {
			return nil, err
		}
		opts = append(opts, netron.WithTLS(st.Server(), st.Client()))
	}
	return opts, nil
}
