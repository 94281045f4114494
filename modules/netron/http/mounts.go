package http

import (
	"net/http"
	"slices"
	"strings"

	"github.com/titanframework/titan/modules/netron"
)

// Mount is a handler that every HTTP gateway of a Netron serves under Path
// beside the services: modules/metrics serves /_titan/metrics,
// /_titan/healthz and /_titan/readyz so, and the development UI lives
// under /_titan/. Path is exact ("/_titan/metrics") or, ending in '/', a
// prefix ("/_titan/ui/"); the longest match wins. A mount answers before
// the gateway's own routes, so a service route cannot shadow it, and it
// answers every request of its paths itself, CORS preflights included:
// the gateway's CORS policy ([WithCORS]) does not extend to it. Its
// answers have the gateway's write timeout ([WithWriteTimeout]): a client
// that stops reading one is cut, and the mount's writes fail.
type Mount struct {
	Path    string
	Handler http.Handler
}

type mountsKey struct{}

// WithMounts is the Netron option that makes every http:// and https://
// gateway of the Netron serve ms (given several times, they add up).
func WithMounts(ms ...Mount) netron.Option {
	ms = slices.Clone(ms)
	return netron.WithValue(mountsKey{}, func(old any) any {
		cur, _ := old.([]Mount)
		return append(slices.Clone(cur), ms...)
	})
}

// mounts returns the mounts of n, longest path first.
func mounts(n netron.Engine) []Mount {
	ms, _ := n.Value(mountsKey{}).([]Mount)
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, func(a, b Mount) int { return len(b.Path) - len(a.Path) })
	return ms
}

// mounted returns the mount serving path, or nil.
func (h *Handler) mounted(path string) http.Handler {
	for _, m := range h.mounts {
		if path == m.Path || strings.HasSuffix(m.Path, "/") && strings.HasPrefix(path, m.Path) {
			return m.Handler
		}
	}
	return nil
}
