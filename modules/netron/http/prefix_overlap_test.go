package http_test

import (
	"net/http"
	"strings"
	"testing"
)

// A path prefix that a service's own titan.HTTP path starts with (prefix
// /api, routes under /api/calculator) serves the routes under the prefix
// as well, not instead: /api/calculator/add stays the route it is without
// the prefix, and /api/api/calculator/add is its alias.
func TestPathPrefixSharedWithServicePath(t *testing.T) {
	s := startServer(t, "?prefix=/api")
	c := client(t)
	for _, p := range []string{"/api/calculator/add", "/api/api/calculator/add", "/rpc/calculator/add", "/api/rpc/calculator/add"} {
		if r := post(t, c, s.addr+p, "[1,2]"); r.status != http.StatusOK || string(r.body) != "3" {
			t.Errorf("POST %s: %d %s, want 200 3", p, r.status, r.body)
		}
	}
	if r := post(t, c, s.addr+"/api/calculator/nope", "[]"); r.status != http.StatusNotFound || !strings.Contains(string(r.body), `has no method \"nope\"`) {
		t.Errorf("POST /api/calculator/nope: %d %s, want 404 naming the method and listing the service's", r.status, r.body)
	}
	if r := do(t, c, http.MethodGet, s.addr+"/api/calculator/add", ""); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/calculator/add: %d %s, want 405", r.status, r.body)
	}
}
