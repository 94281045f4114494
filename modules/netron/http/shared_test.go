package http_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/transport/ws"
)

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestSharedListener serves ws:// and http:// on one port (package
// httpmux), in both orders: a ws listener on the root path first (the
// gateway then leaves GET requests other than its own routes to it), and
// the gateway first with a ws listener on /ws.
func TestSharedListener(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listen []string // after the port
		wsPath string
	}{
		{"ws at / first", []string{"ws://127.0.0.1:%s", "http://127.0.0.1:%s"}, ""},
		{"http first, ws at /ws", []string{"http://127.0.0.1:%s", "ws://127.0.0.1:%s/ws"}, "/ws"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			defer n.Stop(ctx)
			port := freePort(t)
			for _, a := range tc.listen {
				if _, err := n.Listen(ctx, strings.ReplaceAll(a, "%s", port)); err != nil {
					t.Fatal(err)
				}
			}
			c := client(t)
			base := "http://127.0.0.1:" + port
			if r := post(t, c, base+"/api/calculator/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
				t.Fatalf("http: %d %s", r.status, r.body)
			}
			if r := do(t, c, http.MethodGet, base+"/health", ""); r.status != 200 {
				t.Fatalf("health: %d %s", r.status, r.body)
			}
			cn, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cn.Stop(ctx)
			p, err := cn.Dial(ctx, "ws://127.0.0.1:"+port+tc.wsPath)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			rep, err := p.Call(ctx, "calculator@1.0.0", "add", 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			if err := rep.Decode(&sum); err != nil || sum != 5 {
				t.Fatalf("ws add = %v, %v", sum, err)
			}
		})
	}
}
