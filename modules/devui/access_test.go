package devui_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/httpserve"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/logger"
	"github.com/titanframework/titan/titantest"
)

// DNS rebinding: a page of http://rebind.attacker.example:PORT whose name
// the attacker re-points at 127.0.0.1 sends Host and Origin of its own
// origin (and Sec-Fetch-Site: same-origin). The UI must refuse a Host
// that is not the address it serves on (or a loopback name), or a page
// on the web can call every service through the developer's browser:
// every route, the event feed included.
func TestDNSRebindingRefused(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	evilHost := "rebind.attacker.example:" + u.Port()
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodPost, "api/call", `{"service":"calc@1.0.0","method":"add","args":[1,2]}`},
		{http.MethodPost, "api/stream", `{"service":"calc@1.0.0","method":"count","args":[2]}`},
		{http.MethodGet, "api/services", ""},
		{http.MethodGet, "api/info", ""},
		{http.MethodGet, "api/peers", ""},
		{http.MethodGet, "api/metrics", ""},
		{http.MethodGet, "", ""},
	} {
		req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = evilHost
		req.Header.Set("Origin", "http://"+evilHost)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if tt.method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
		a := do(t, req)
		if a.status == http.StatusOK {
			t.Errorf("%s %s with Host %s: 200 %.200s; want the foreign Host refused", tt.method, tt.path, evilHost, a.body)
			continue
		}
		a.wantError(t, http.StatusForbidden, "permission_denied", evilHost, "devui.allowedHosts")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"api/events", &websocket.DialOptions{
		Host:       evilHost,
		HTTPHeader: http.Header{"Origin": {"http://" + evilHost}},
	})
	if err == nil {
		c.CloseNow()
		t.Fatalf("the event feed opened for Host %s", evilHost)
	}
	if res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("the event feed for Host %s: %v, %v; want 403", evilHost, res, err)
	}
}

// The names of this machine reach the UI, and so do those of
// devui.allowedHosts (a reverse proxy's), with any port and in any case.
func TestHostsAllowed(t *testing.T) {
	t.Parallel()
	_, base := startUI(t, "devui.allowedHosts=devui.example.com,10.1.2.3")
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"localhost:7080", true},
		{"LocalHost.", true},
		{"app.localhost:7080", true},
		{"127.0.0.1:7080", true},
		{"127.1.2.3", true},
		{"[::1]:7080", true},
		{"devui.example.com:443", true},
		{"DEVUI.example.com", true},
		{"10.1.2.3:7080", true},
		{"other.example.com", false},
		{"localhost.example.com", false},
		{"devui.example.com.evil.example", false},
		{"10.1.2.4", false},
	} {
		req, err := http.NewRequest(http.MethodGet, base+"api/info", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		if a := do(t, req); (a.status == http.StatusOK) != tt.ok {
			t.Errorf("Host %s: %d %s; want allowed %t", tt.host, a.status, a.body, tt.ok)
		}
	}
}

// nonLoopbackIP returns an IPv4 address of this machine that is not a
// loopback one, or skips.
func nonLoopbackIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address")
	return ""
}

// Turning the UI on (devui.enabled, nothing else) must not put the
// service tester on the network: an app whose HTTP gateway listens on
// every interface, or whose devui.listen does, serves /_titan/ to other
// machines only when devui.allowRemote says so, and says at start that
// it refuses them.
func TestNotServedOnNonLoopbackByDefault(t *testing.T) {
	t.Parallel()
	ip := nonLoopbackIP(t)
	for _, tt := range []struct {
		name string
		// start starts the app configured with sets, logging to logs,
		// and returns the UI's URL at ip.
		start func(t *testing.T, logs titan.Option, sets ...string) string
	}{
		{"gateway", func(t *testing.T, logs titan.Option, sets ...string) string {
			app := titantest.StartApp(t, titantest.WithSettings(append(sets, "netron.listen=http://0.0.0.0:0")...), logs, calcService())
			u, err := url.Parse(app.Addr(t, "http"))
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("http://%s:%s%s", ip, u.Port(), devui.BasePath)
		}},
		{"devui.listen", func(t *testing.T, logs titan.Option, sets ...string) string {
			port := strconv.Itoa(freePort(t))
			titantest.StartApp(t, titantest.WithSettings(append(sets, "netron.listen=tcp://127.0.0.1:0", "devui.listen=0.0.0.0:"+port)...), logs, calcService())
			return fmt.Sprintf("http://%s:%s%s", ip, port, devui.BasePath)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, allow := range []bool{false, true} {
				var logs testsrv.LogBuffer
				remote := tt.start(t, titan.WithLogger(logger.WithHandler(slog.NewTextHandler(&logs, nil))), "devui.enabled=true", "devui.allowRemote="+strconv.FormatBool(allow))
				a := call(t, remote, "", "calc@1.0.0", "add", 1, 2)
				warned := strings.Contains(logs.String(), "answers callers on this machine only: set devui.allowRemote")
				if !allow {
					if a.status == http.StatusOK {
						t.Errorf("POST %sapi/call from %s: 200 %s; the development UI calls services for anyone on the network", remote, ip, a.body)
					} else {
						a.wantError(t, http.StatusForbidden, "permission_denied", "answers callers on this machine only (devui.allowRemote)")
					}
					if !warned {
						t.Errorf("no warning at start that other machines are refused; the log:\n%s", logs.String())
					}
				} else {
					if a.status != http.StatusOK {
						t.Errorf("with devui.allowRemote, POST %sapi/call from %s: %d %s", remote, ip, a.status, a.body)
					}
					if warned {
						t.Errorf("with devui.allowRemote, a warning that other machines are refused; the log:\n%s", logs.String())
					}
				}
			}
		})
	}
}

// The UI's own server (devui.listen, titan dev) bounds the time a request
// may take to arrive: a client that sends the headers and then trickles
// (or withholds) the body must not hold a connection and a goroutine
// forever. The call timeout here is 300ms; the body never comes.
func TestSlowBodyIsBounded(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=tcp://127.0.0.1:0"), calcService())
	h := devui.NewHandler(devui.Local(app.Netron(), nil), devui.WithTimeout(300*time.Millisecond))
	srv, err := httpserve.Start("127.0.0.1:0", devui.Standalone(h), slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		srv.Stop(t.Context())
	})
	start := time.Now()
	line, err := withheldBody(t, srv.Addr(), "POST", "api/call", srv.Addr(), 20*time.Second)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("after %v the server still waits for the body: no read timeout on the UI's own server", time.Since(start).Round(time.Second))
	}
	if !strings.HasPrefix(line, "HTTP/1.1 408 ") {
		t.Errorf("answered %q, %v after %v; want 408", line, err, time.Since(start).Round(time.Millisecond))
	}

	// On the HTTP gateway, the gateway's bound (netron.frameTimeout).
	gw, _ := startUI(t, "netron.frameTimeout=300ms")
	addr := strings.TrimPrefix(gw.Addr(t, "http"), "http://")
	start = time.Now()
	if line, err := withheldBody(t, addr, "POST", "api/call", addr, 20*time.Second); !strings.HasPrefix(line, "HTTP/1.1 408 ") {
		t.Errorf("on the gateway: answered %q, %v after %v; want 408", line, err, time.Since(start).Round(time.Millisecond))
	}
}

// A request answered without reading its body (refused, or a GET that
// has one) is answered at once, not once the body has come or its time
// has run out: net/http would wait for the body to keep the connection.
func TestAnswerDoesNotWaitForUnreadBody(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=tcp://127.0.0.1:0"), calcService())
	h := devui.NewHandler(devui.Local(app.Netron(), nil)) // bodies may take BodyTimeout (10s)
	srv, err := httpserve.Start("127.0.0.1:0", devui.Standalone(h), slog.New(slog.DiscardHandler), "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		srv.Stop(t.Context())
	})
	for _, tt := range []struct{ method, path, host, want string }{
		{"POST", "api/call", "rebind.attacker.example", "HTTP/1.1 403 "},
		{"GET", "api/call", srv.Addr(), "HTTP/1.1 405 "},
		{"GET", "api/info", srv.Addr(), "HTTP/1.1 200 "},
	} {
		start := time.Now()
		line, err := withheldBody(t, srv.Addr(), tt.method, tt.path, tt.host, devui.BodyTimeout/2)
		if !strings.HasPrefix(line, tt.want) {
			t.Errorf("%s %s for Host %s, its body withheld: %q, %v after %v; want %s at once",
				tt.method, tt.path, tt.host, line, err, time.Since(start).Round(time.Millisecond), tt.want)
		}
	}
}

// withheldBody sends a request for path of the UI at addr that announces
// a body of 100 bytes and sends a few, and returns the first line of the
// answer, read within wait.
func withheldBody(t *testing.T, addr, method, path, host string, wait time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"service\":", method, devui.BasePath, path, host)
	c.SetReadDeadline(time.Now().Add(wait))
	return bufio.NewReader(c).ReadString('\n')
}

// The gateway's CORS policy (http.cors.origins, set for the app's own
// JSON API) must not extend to the development UI: a page of an allowed
// origin could otherwise read what the UI shows (services, peers and
// their addresses, metrics) from the developer's browser, with its
// cookies. (The origin is listed: "*" with credentials is refused.)
func TestGatewayCORSDoesNotReachTheUI(t *testing.T) {
	t.Parallel()
	_, base := startUI(t, "http.cors.origins=https://any-site.example", "http.cors.credentials=true")
	for _, path := range []string{"api/services", "api/peers", "api/info"} {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://any-site.example")
		a := do(t, req)
		if acao := a.header.Get("Access-Control-Allow-Origin"); a.status == 200 && acao != "" {
			t.Errorf("GET %s from https://any-site.example: 200 with Access-Control-Allow-Origin %q: the page there reads %.80s...", path, acao, a.body)
		}
		if acac := a.header.Get("Access-Control-Allow-Credentials"); acac != "" {
			t.Errorf("GET %s from https://any-site.example: Access-Control-Allow-Credentials %q", path, acac)
		}
	}
}

// The UI's own server answers a CORS preflight without a grant.
func TestPreflightGetsNoGrant(t *testing.T) {
	t.Parallel()
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=tcp://127.0.0.1:0"), calcService())
	h := devui.NewHandler(devui.Local(app.Netron(), nil))
	srv := httptest.NewServer(devui.Standalone(h))
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	req, err := http.NewRequest(http.MethodOptions, srv.URL+devui.BasePath+"api/call", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "https://any-site.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	a := do(t, req)
	if a.status != http.StatusNoContent {
		t.Errorf("OPTIONS api/call: %d %s; want 204", a.status, a.body)
	}
	for k := range a.header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("OPTIONS api/call: %s: %s; want no CORS grant", k, a.header.Get(k))
		}
	}
}
