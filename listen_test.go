package titan_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nuid"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats" // nats:// is linked by import
)

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago, for
// the one case that needs two listeners on a port known in advance.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// socketPath returns a Unix socket path short enough for every OS's limit.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "titan")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

// TestListenEveryScheme serves a service on each scheme, given once with
// titan.Listen and once as netron.listen in a configuration file, and calls
// it at every address the app reports.
func TestListenEveryScheme(t *testing.T) {
	t.Parallel()
	schemes := []struct {
		name  string
		addrs func(t *testing.T) []string
	}{
		{"tcp", func(*testing.T) []string { return []string{"tcp://127.0.0.1:0"} }},
		{"unix", func(t *testing.T) []string { return []string{"unix://" + socketPath(t)} }},
		{"ws", func(*testing.T) []string { return []string{"ws://127.0.0.1:0"} }},
		{"http", func(*testing.T) []string { return []string{"http://127.0.0.1:0"} }},
		{"ws+http", func(t *testing.T) []string {
			hostport := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			return []string{"ws://" + hostport, "http://" + hostport}
		}},
		{"mem", func(*testing.T) []string { return []string{"mem://"} }},
		{"nats", func(t *testing.T) []string {
			return []string{testsrv.NATS(t) + "?prefix=t" + strings.ToLower(nuid.Next())}
		}},
	}
	for _, sc := range schemes {
		for _, via := range []string{"titan.Listen", "netron.listen"} {
			t.Run(sc.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				addrs := sc.addrs(t)
				opts := []titan.Option{titan.WithConfig(quiet()), titan.Listen(addrs...)}
				if via == "netron.listen" {
					file := filepath.Join(t.TempDir(), "titan.yaml")
					body := "netron:\n  listen:\n"
					for _, a := range addrs {
						body += fmt.Sprintf("    - %q\n", a)
					}
					if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
					opts = []titan.Option{titan.WithConfig(config.Options{Files: []string{file}, Environ: []string{}, NoWatch: true})}
				}
				var n *netron.Netron
				startApp(t, append(opts,
					titan.Service("calculator", "1.0.0", NewCalculator, titan.HTTP("/api/calculator")),
					titan.Invoke(func(x *netron.Netron) { n = x }),
				)...)
				bound := n.Addrs()
				if len(bound) != len(addrs) {
					t.Fatalf("listening on %v, want %d addresses for %v", bound, len(addrs), addrs)
				}
				if sc.name == "ws+http" && hostPort(bound[0]) != hostPort(bound[1]) {
					t.Fatalf("ws and http are on different ports: %v", bound)
				}
				for _, a := range bound {
					callAdd(t, a)
				}
			})
		}
	}
}

func hostPort(addr string) string {
	_, rest, _ := strings.Cut(addr, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}

// callAdd calls calculator@1.0.0 add(1, 2) at addr and wants 3: over HTTP
// through the JSON route, elsewhere through a Netron peer.
func callAdd(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if strings.HasPrefix(addr, "http://") {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		req, err := http.NewRequestWithContext(ctx, "POST", addr+"/api/calculator/add", strings.NewReader("[1,2]"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", addr, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "3" {
			t.Fatalf("POST %s/api/calculator/add [1,2]: %d %s", addr, resp.StatusCode, body)
		}
		return
	}
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer p.Close()
	if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("add at %s = %v, %v", addr, v, err)
	}
}

// TestListenUnknownScheme: an address nothing serves is refused at start-up
// with where it came from and every scheme that is served, gateways' too.
func TestListenUnknownScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []titan.Option
		want string
	}{
		{"titan.Listen", []titan.Option{titan.WithConfig(quiet()), titan.Listen("bogus://x")}, `titan.Listen: netron: address "bogus://x": transport: unknown scheme "bogus" (known: http, https, `},
		{"netron.listen", []titan.Option{titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0,bogus://x"))}, `netron.listen (from flag --set netron.listen): netron: address "bogus://x": transport: unknown scheme "bogus" (known: http, https, `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := titan.New(tt.opts...).Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tt.want)
			}
		})
	}
}
