package titan

import "fmt"

// Admin starts the admin HTTP server on addr (host:port, such as
// "127.0.0.1:9090" or ":9090"): it serves /metrics, /healthz and /readyz
// (modules/metrics). It sets the app's default for metrics.listen, as
// WithConfigDefault does: the value means what --set metrics.listen=addr
// means, and a configuration file, TITAN_METRICS__LISTEN or a --set flag
// still replaces it. It is an app-level option. Without it (and without
// metrics.listen) no admin server starts; every http:// listener of the
// app serves the same endpoints under /_titan/ either way. An app has
// one admin server: two Admin options with different addresses are an
// error.
func Admin(addr string) Option {
	desc := fmt.Sprintf("Admin(%q)", addr)
	return appLevel(desc, func(s *settings) {
		if addr == "" {
			s.errs = append(s.errs, fmt.Errorf("Admin(%q): want an address such as \"127.0.0.1:9090\"", addr))
			return
		}
		if s.admin != "" && s.admin != desc {
			s.errs = append(s.errs, fmt.Errorf("%s conflicts with %s: an app has one admin server", desc, s.admin))
			return
		}
		s.admin = desc
		if s.defaults == nil {
			s.defaults = map[string]any{}
		}
		s.defaults["metrics.listen"] = addr
	})
}
