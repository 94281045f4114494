package http_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	httpgw "github.com/titanframework/titan/modules/netron/http"
)

// Every HTTP gateway of a Netron serves its mounts, exact paths and
// prefixes, the longest first, before the services' routes.
func TestMounts(t *testing.T) {
	text := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
	}
	n, err := netron.New(netron.Config{}, nil,
		httpgw.WithMounts(httpgw.Mount{Path: "/_titan/metrics", Handler: text("metrics")}),
		httpgw.WithMounts(httpgw.Mount{Path: "/_titan/", Handler: text("ui")}, httpgw.Mount{Path: "/_titan/ui/deep/", Handler: text("deep")}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/_titan/metrics": "metrics", "/_titan/": "ui", "/_titan/services": "ui", "/_titan/ui/deep/x": "deep",
	} {
		resp, err := testsrv.HTTPClient.Get(addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("GET %s = %q, want %q", path, b, want)
		}
	}
	resp, err := testsrv.HTTPClient.Get(addr + "/_titanic")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /_titanic = %d, want the gateway's 404", resp.StatusCode)
	}
}

// The gateway's CORS policy is for its own routes: a mount answers its
// preflights and its requests itself, without the gateway's grant.
func TestMountsGetNoCORSGrant(t *testing.T) {
	t.Parallel()
	mount := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "mount "+r.Method)
	})
	n, err := netron.New(netron.Config{}, nil,
		httpgw.WithMounts(httpgw.Mount{Path: "/_titan/", Handler: mount}),
		httpgw.WithGatewayOptions(httpgw.WithCORS(httpgw.CORS{Origins: []string{"*"}})))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	preflight := []string{"Origin", "https://any-site.example", "Access-Control-Request-Method", "POST"}
	for _, method := range []string{http.MethodOptions, http.MethodGet, http.MethodPost} {
		a := do(t, c, method, addr+"/_titan/api/call", "", preflight...)
		if a.status != http.StatusTeapot || string(a.body) != "mount "+method {
			t.Errorf("%s /_titan/api/call: %d %q; want the mount's answer", method, a.status, a.body)
		}
		for k := range a.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s /_titan/api/call: %s: %s; want no CORS grant from the gateway", method, k, a.header.Get(k))
			}
		}
	}
	// The gateway's own routes keep the grant.
	a := do(t, c, http.MethodOptions, addr+"/netron/invoke", "", preflight...)
	if a.status != http.StatusNoContent || a.header.Get("Access-Control-Allow-Origin") != "https://any-site.example" {
		t.Errorf("OPTIONS /netron/invoke: %d, Access-Control-Allow-Origin %q; want 204 with the grant", a.status, a.header.Get("Access-Control-Allow-Origin"))
	}
}
