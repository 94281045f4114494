package titan

import "fmt"

// Admin starts the admin HTTP server on addr (host:port, such as
// "127.0.0.1:9090" or ":9090"): it serves /metrics, /healthz and /readyz
// (modules/metrics). It sets the app's default for metrics.listen, as
// WithConfigDefault does: the value means what --set metrics.listen=addr
// means, and a configuration file, TITAN_METRICS__LISTEN or a --set flag
// still replaces it. It is an app-level option. Without it (and without
// metrics.listen) no admin server starts; every http:// listener of the
// app serves the same endpoints under /_titan/ either way.
func Admin(addr string) Option {
	return appLevel(fmt.Sprintf("Admin(%q)", addr), func(s *settings) {
		if addr == "" {
			s.errs = append(s.errs, fmt.Errorf("Admin(%q): want an address such as \"127.0.0.1:9090\"", addr))
			return
		}
		if s.defaults == nil {
			s.defaults = map[string]any{}
		}
		s.defaults["metrics.listen"] = addr
	})
}
