package http_test

import (
	"net/http"
	"testing"
)

// HEAD is GET without the body (RFC 9110 §9.3.2): the GET routes answer
// it with the status and headers of their GET, as /health does, not 404.
func TestHeadOfGetRoutes(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	for _, p := range []string{"/health", "/openapi.json", "/discover", "/netron/definition/calculator@1.0.0"} {
		get := do(t, c, http.MethodGet, s.addr+p, "")
		head := do(t, c, http.MethodHead, s.addr+p, "")
		if get.status != http.StatusOK || head.status != get.status || len(head.body) != 0 ||
			head.header.Get("Content-Type") != get.header.Get("Content-Type") {
			t.Errorf("%s: HEAD %d %q %q, GET %d %q; want HEAD as GET, without a body",
				p, head.status, head.header.Get("Content-Type"), head.body, get.status, get.header.Get("Content-Type"))
		}
	}
}
