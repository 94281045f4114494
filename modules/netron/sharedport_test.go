package netron_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/http" // http://
)

// TestHTTPAndWebSocketShareAPort: whichever is listened on first, ws:// and
// http:// on one host:port both serve.
func TestHTTPAndWebSocketShareAPort(t *testing.T) {
	for _, first := range []string{"http", "ws"} {
		t.Run(first+" first", func(t *testing.T) {
			ctx := context.Background()
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(ctx)
			if err := n.Register("calculator", "1.0.0", &Calc{}, netron.WithHTTP("/api/calculator")); err != nil {
				t.Fatal(err)
			}
			second := map[string]string{"http": "ws", "ws": "http"}[first]
			a, err := n.Listen(ctx, first+"://127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hostport := a[strings.Index(a, "//")+2:]
			if _, err := n.Listen(ctx, second+"://"+hostport); err != nil {
				t.Fatalf("%s on the same port: %v", second, err)
			}
			p := dial(t, "ws://"+hostport)
			if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
				t.Fatalf("ws add = %v, %v", v, err)
			}
			for path, body := range map[string]string{
				"/api/calculator/add": "[1,2]",
				"/netron/invoke":      `{"id":"1","version":"1.0","timestamp":0,"service":"calculator@1.0.0","method":"add","input":[1,2]}`,
			} {
				resp, err := http.Post("http://"+hostport+path, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(b), "3") {
					t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
				}
			}
		})
	}
}

// A Netron's shared ports are its own: another Netron of the process asked
// to listen with ws:// on the address of the first one's http:// gateway
// does not mount on the first one's server (it tries to bind and finds the
// port taken), and after the first stops the port is free for anyone.
func TestSharedPortsBelongToOneNetron(t *testing.T) {
	ctx := context.Background()
	first, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := first.Listen(ctx, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hostport := a[strings.Index(a, "//")+2:]
	second, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop(ctx)
	if _, err := second.Listen(ctx, "ws://"+hostport); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("a second Netron listened on the first one's port: %v", err)
	}
	if _, err := first.Listen(ctx, "ws://"+hostport); err != nil {
		t.Fatalf("the Netron that holds the port could not share it: %v", err)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Listen(ctx, "ws://"+hostport); err != nil {
		t.Fatalf("the port is still held after its Netron stopped: %v", err)
	}
}
