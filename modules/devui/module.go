package devui

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/titanframework/titan/internal/httpserve"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/modules/netron"
	httpgw "github.com/titanframework/titan/modules/netron/http"
)

// Module is the development UI module, in every app titan.New builds:
// the `devui` configuration section and, when devui.enabled is on
// (titan.DevUI), the UI of the app's Netron ([Local]) under /_titan/ on
// every http:// and https:// listener of the app, or on a server of its
// own at devui.listen. Off, it serves nothing and starts nothing.
var Module = fx.Module("titan.devui",
	config.AsSection("devui", DefaultConfig()),
	logger.Decorate("devui"),
	fx.Provide(fx.Private, newUI),
	fx.Provide(fx.Annotate(options, fx.ResultTags(`group:"`+netron.OptionGroup+`,flatten"`))),
	fx.Invoke(bind),
)

// ui is the module's state.
type ui struct {
	cfg    Config
	source string // of devui.listen, for errors
	log    *slog.Logger
	local  *local   // its Netron is set by bind
	h      *Handler // nil when the UI is off

	srv *httpserve.Server // devui.listen's, once started
}

type uiParams struct {
	fx.In
	Config *config.Config
	Log    *slog.Logger
}

// newUI reads the section and, when the UI is on, makes its handler. The
// Netron's options depend on it (options), so it cannot take the Netron:
// bind gives it.
func newUI(p uiParams) (*ui, error) {
	cfg, err := config.Section[Config](p.Config, "devui")
	if err != nil {
		return nil, err
	}
	if key, err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s (from %s): %w", key, p.Config.Source(key), err)
	}
	u := &ui{cfg: cfg, source: p.Config.Source("devui.listen"), log: p.Log}
	if cfg.Enabled {
		u.local = &local{}
		opts := []Option{WithTimeout(cfg.Timeout), WithMaxStreamItems(cfg.MaxStreamItems), WithLogger(p.Log),
			WithRemoteAccess(cfg.AllowRemote), WithAllowedHosts(cfg.AllowedHosts...),
			WithAllowedOrigins(cfg.AllowedOrigins...)}
		if cfg.Listen == "" {
			opts = append(opts, gatewayTimesBodies())
		}
		u.h = NewHandler(u.local, opts...)
	}
	return u, nil
}

// gatewayTimesBodies leaves bounding the arrival of request bodies to the
// HTTP gateway the UI is mounted on: it has a bound of its own
// (netron.frameTimeout), which a second read deadline would cut short.
func gatewayTimesBodies() Option {
	return option{"gatewayTimesBodies()", func(c *handlerConfig) { c.serverTimesBodies = true }}
}

// options mounts the UI on the app's HTTP gateways, when it is on and
// has no server of its own.
func options(u *ui) []netron.Option {
	if u.h == nil || u.cfg.Listen != "" {
		return nil
	}
	return []netron.Option{httpgw.WithMounts(
		httpgw.Mount{Path: BasePath, Handler: u.h},
		httpgw.Mount{Path: strings.TrimSuffix(BasePath, "/"), Handler: u.h}, // redirected to BasePath
	)}
}

type bindParams struct {
	fx.In
	UI        *ui
	Netron    *netron.Netron
	Lifecycle fx.Lifecycle
	// Gatherer gives the app's series (modules/metrics).
	Gatherer prometheus.Gatherer `optional:"true"`
}

// bind gives the UI the app's Netron. Its hooks come after the Netron's:
// the UI's own server starts once the app listens, and the event feeds
// and that server stop before the Netron does.
func bind(p bindParams) {
	u := p.UI
	if u.h == nil {
		return
	}
	u.local.n, u.local.gatherer = p.Netron, p.Gatherer
	p.Lifecycle.Append(fx.Hook{
		OnStart: func(ctx context.Context) error { return u.start(p.Netron) },
		OnStop:  u.stop,
	})
}

// start starts the UI's own server when devui.listen is set, and says
// where the UI is.
func (u *ui) start(n *netron.Netron) error {
	if u.cfg.Listen == "" {
		var at []string
		for _, a := range n.Addrs() {
			if strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") {
				at = append(at, a+BasePath)
			}
		}
		if len(at) == 0 {
			u.log.Warn("the development UI is on, but the app has no http:// listener to serve it: add one to netron.listen, or set devui.listen")
			return nil
		}
		for _, a := range at {
			u.log.Info("serving the development UI", "url", a)
		}
		u.warnExposed(at)
		return nil
	}
	srv, err := httpserve.Start(u.cfg.Listen, Standalone(u.h), u.log, "the development UI's server")
	if err != nil {
		return fmt.Errorf("devui.listen (from %s): %w", u.source, err)
	}
	u.srv = srv
	at := "http://" + srv.Addr() + BasePath
	u.log.Info("serving the development UI", "url", at)
	u.warnExposed([]string{at})
	return nil
}

// warnExposed warns, once, when the UI is served at a URL other machines
// reach while it answers callers on this machine only: their calls are
// refused, and the user should know why.
func (u *ui) warnExposed(urls []string) {
	if u.cfg.AllowRemote {
		return
	}
	for _, s := range urls {
		if l, err := url.Parse(s); err == nil && !loopbackHost(l.Hostname()) {
			u.log.Warn("the development UI listens where other machines reach it, but answers callers on this machine only: set devui.allowRemote to let them use it",
				"url", s)
			return
		}
	}
}

// loopbackHost reports whether host (a listener's) is reached from this
// machine only: localhost or a loopback address.
func loopbackHost(host string) bool {
	if host = hostName(host); host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// stop closes the event feeds and the UI's own server, if it started,
// waiting for the requests in flight until ctx ends.
func (u *ui) stop(ctx context.Context) error {
	u.h.Close()
	if u.srv == nil {
		return nil
	}
	if err := u.srv.Stop(ctx); err != nil {
		return fmt.Errorf("devui: stop the server: %w", err)
	}
	return nil
}

// Standalone returns the handler of a server that serves only the UI of
// h: h under [BasePath], and a redirect to it from "/". It is what
// devui.listen and `titan dev` serve.
func Standalone(h *Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(BasePath, h)
	mux.Handle("GET /{$}", http.RedirectHandler(BasePath, http.StatusFound))
	return mux
}
