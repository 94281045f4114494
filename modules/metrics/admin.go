package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/titanframework/titan/internal/httpserve"
	"github.com/titanframework/titan/modules/health"
	httpgw "github.com/titanframework/titan/modules/netron/http"
)

// The paths of the endpoints: on the admin server, and under MountPrefix
// on every http:// listener of the app.
const (
	MetricsPath = "/metrics"
	LivePath    = "/healthz"
	ReadyPath   = "/readyz"
	MountPrefix = "/_titan"
)

// admin serves the endpoints: on its own HTTP server when metrics.listen
// is set, and through the app's HTTP gateways (mounts).
type admin struct {
	cfg     Config
	source  string // of metrics.listen, for errors
	log     *slog.Logger
	reg     *prometheus.Registry // nil when metrics are off
	ic      *Interceptor         // nil when metrics are off
	checker *health.Checker
	// listening is the transports check once the Netron listens (nil
	// while the app starts): see listened.
	listening atomic.Pointer[health.Check]

	srv *httpserve.Server // metrics.listen's, once started
}

// endpoints returns the handlers by path (without prefix): /metrics only
// when metrics are on.
func (a *admin) endpoints() map[string]http.Handler {
	eps := map[string]http.Handler{
		LivePath:  a.checker.LiveHandler(),
		ReadyPath: a.checker.ReadyHandler(),
	}
	if a.reg != nil {
		eps[MetricsPath] = promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{
			ErrorLog:      promLog{a.log},
			ErrorHandling: promhttp.ContinueOnError,
		})
	}
	return eps
}

// mounts are the endpoints under MountPrefix, for the HTTP gateways.
func (a *admin) mounts() []httpgw.Mount {
	var ms []httpgw.Mount
	for path, h := range a.endpoints() {
		ms = append(ms, httpgw.Mount{Path: MountPrefix + path, Handler: h})
	}
	return ms
}

// start starts the admin server when metrics.listen is set.
func (a *admin) start(context.Context) error {
	if a.cfg.Listen == "" {
		return nil
	}
	mux := http.NewServeMux()
	for path, h := range a.endpoints() {
		mux.Handle(path, h)
	}
	srv, err := httpserve.Start(a.cfg.Listen, mux, a.log, "the admin server")
	if err != nil {
		return fmt.Errorf("metrics.listen (from %s): %w", a.source, err)
	}
	a.srv = srv
	a.log.Info("serving metrics and health", "addr", "http://"+srv.Addr())
	return nil
}

// stop stops the admin server, if it started, waiting for the requests in
// flight until ctx ends.
func (a *admin) stop(ctx context.Context) error {
	if a.srv == nil {
		return nil
	}
	if err := a.srv.Stop(ctx); err != nil {
		return fmt.Errorf("metrics: stop the admin server: %w", err)
	}
	return nil
}

// promLog sends promhttp's errors to the module's logger.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("serving /metrics", "error", fmt.Sprint(v...)) }
