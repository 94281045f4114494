package security

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

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
}

func newGuard(p guardParams) (*Guard, error) {
	cfg, err := config.Section[Config](p.Config, "security")
	if err != nil {
		return nil, err
	}
	o := Options{Log: p.Log, Authenticator: p.Authenticator}
	if cfg.RateLimit.Backend == "redis" {
		url := cfg.RateLimit.URL
		if url == "" {
			url = "redis://127.0.0.1:6379/0"
		}
		ro, err := goredis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("security.rateLimit.url (from %s): %w", p.Config.Source("security.rateLimit.url"), err)
		}
		ro.DialTimeout, ro.ReadTimeout, ro.WriteTimeout = time.Second, time.Second, time.Second
		rc := goredis.NewClient(ro)
		p.Lifecycle.Append(fx.StopHook(rc.Close))
		o.Limiter = ratelimit.NewRedis(rc, cfg.RateLimit.Prefix)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg, o)
	if err != nil {
		cancel()
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(func() {
		cancel()
		g.Close()
	}))
	return g, nil
}

// guardOptions are the Netron options of the guard, and the TLS of
// security.tls when it is set.
func guardOptions(g *Guard, log *slog.Logger) ([]netron.Option, error) {
	opts := g.Options()
	if g.cfg.TLS.Enabled() {
		st, err := certs.NewWithLogger(g.cfg.TLS, log)
		if err != nil {
			return nil, err
		}
		opts = append(opts, netron.WithTLS(st.Server(), st.Client()))
	}
	return opts, nil
}
