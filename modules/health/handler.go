package health

import (
	"context"
	"encoding/json"
	"net/http"
)

// LiveHandler serves /healthz: the [Checker.Live] report as JSON, with 200
// when healthy or degraded and 503 when unhealthy.
func (c *Checker) LiveHandler() http.Handler { return reportHandler(c.Live) }

// ReadyHandler serves /readyz: the [Checker.Ready] report as JSON, with 200
// when healthy or degraded and 503 when unhealthy (so while draining).
func (c *Checker) ReadyHandler() http.Handler { return reportHandler(c.Ready) }

func reportHandler(run func(context.Context) Report) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rep := run(r.Context())
		body, err := json.Marshal(rep)
		if err != nil { // a Report always encodes
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(rep.Status.HTTPStatus())
		if r.Method == http.MethodGet {
			_, _ = w.Write(append(body, '\n'))
		}
	})
}
