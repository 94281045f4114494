package http_test

import (
	"context"
	"io"
	"net/http"
	"testing"

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
		resp, err := http.Get(addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("GET %s = %q, want %q", path, b, want)
		}
	}
	resp, err := http.Get(addr + "/_titanic")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /_titanic = %d, want the gateway's 404", resp.StatusCode)
	}
}
