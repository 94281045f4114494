package titantest

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	_ "github.com/titanframework/titan/modules/netron/transport/mem" // mem://
	"github.com/titanframework/titan/modules/netron/validate"
)

// Server is a Netron serving services for one test.
type Server struct {
	*netron.Netron
	// Addr is the address it listens on.
	Addr string
}

// Serve starts a Netron with the default configuration and the features
// of an app's ([AppFeatures]), registers impl as name@version with opts and
// listens on "mem://", the in-memory transport. The server stops when the
// test ends; see [ServeAt] for another address or configuration.
func Serve(tb testing.TB, name, version string, impl any, opts ...netron.ServiceOption) *Server {
	tb.Helper()
	return ServeAt(tb, "mem://", netron.Config{}, func(n *netron.Netron) error {
		return n.Register(name, version, impl, opts...)
	})
}

// AppFeatures returns the interceptors a titan app's Netron has, innermost
// after its own: the response cache (cfg.CacheSize results in
// cfg.CacheBytes), then contract
// validation (unless cfg.SkipValidation). The cache is closed when the
// test ends. A test that stands for an app's server gives it to
// netron.New.
func AppFeatures(tb testing.TB, cfg netron.Config) netron.Option {
	rc := cache.New(cfg.CacheSize, cache.WithMaxBytes(cfg.CacheBytes))
	tb.Cleanup(func() { _ = rc.Close() })
	features := []netron.Interceptor{rc}
	if !cfg.SkipValidation {
		features = append(features, validate.New(nil))
	}
	return netron.WithInterceptors(features...)
}

// ServeAt starts a Netron with cfg (zero fields take the defaults), lets
// register add services, and listens on addr. The server stops when the
// test ends, also when register or Listen fails the test: what register
// started is stopped too.
func ServeAt(tb testing.TB, addr string, cfg netron.Config, register func(*netron.Netron) error) *Server {
	tb.Helper()
	n, err := netron.New(cfg, nil, AppFeatures(tb, cfg))
	if err != nil {
		tb.Fatal(err)
	}
	where := addr // the address bound, once Listen gave it
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			tb.Errorf("titantest: stop %s: %v", where, err)
		}
	})
	if register != nil {
		if err := register(n); err != nil {
			tb.Fatal(err)
		}
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		tb.Fatal(err)
	}
	where = bound
	return &Server{Netron: n, Addr: bound}
}

// Dial connects to the server and closes the peer when the test ends.
func (s *Server) Dial(tb testing.TB) *netron.Peer {
	tb.Helper()
	return Dial(tb, s.Addr)
}

// Dial connects to addr and closes the peer when the test ends.
func Dial(tb testing.TB, addr string) *netron.Peer {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}
