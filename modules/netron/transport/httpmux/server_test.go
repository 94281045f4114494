package httpmux_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const timeout = 10 * time.Second

func acquire(t *testing.T, hostport string, cfg *tls.Config) *httpmux.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := httpmux.Acquire(ctx, hostport, transport.Options{TLS: cfg})
	if err != nil {
		t.Fatalf("Acquire(%q): %v", hostport, err)
	}
	t.Cleanup(func() { _ = s.Release(context.Background()) })
	return s
}

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

// get returns the status and body of GET url, on a fresh connection each time.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var plain = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: timeout}

func TestSharedPort(t *testing.T) {
	a := acquire(t, "127.0.0.1:0", nil)
	if strings.HasSuffix(a.Addr(), ":0") || a.TLS() {
		t.Fatalf("Addr() = %q, TLS() = %v; want a bound plain address", a.Addr(), a.TLS())
	}
	b := acquire(t, a.Addr(), nil) // the bound address finds the same server
	if b.Addr() != a.Addr() {
		t.Fatalf("second Acquire got %q, want %q", b.Addr(), a.Addr())
	}
	other := acquire(t, "127.0.0.1:0", nil) // port 0 always starts a new server
	if other.Addr() == a.Addr() {
		t.Fatal("Acquire of port 0 returned the running server")
	}
	if _, err := a.Handle("/a", text("A")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Handle("GET /b/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "B"+r.PathValue("id"))
	})); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/a": "A", "/b/7": "B7"} {
		if code, body := get(t, plain, "http://"+a.Addr()+path); code != 200 || body != want {
			t.Errorf("GET %s = %d %q, want 200 %q", path, code, body, want)
		}
	}
	if code, _ := get(t, plain, "http://"+other.Addr()+"/a"); code != http.StatusNotFound {
		t.Errorf("GET /a on the other server = %d, want 404", code)
	}
}

func TestAcquireByRequestedAddress(t *testing.T) {
	// Find a free port, then acquire it twice by name.
	probe := acquire(t, "127.0.0.1:0", nil)
	port := probe.Addr()[strings.LastIndex(probe.Addr(), ":")+1:]
	if err := probe.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := acquire(t, "localhost:"+port, nil)
	b := acquire(t, "localhost:"+port, nil)
	if a.Addr() != b.Addr() {
		t.Fatalf("Acquire(localhost:%s) twice gave %q and %q", port, a.Addr(), b.Addr())
	}
	c := acquire(t, a.Addr(), nil) // and by the bound address
	if _, err := c.Handle("/x", text("x")); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, plain, "http://"+a.Addr()+"/x"); code != 200 || body != "x" {
		t.Fatalf("GET /x = %d %q", code, body)
	}
}

func TestRefCountShutdown(t *testing.T) {
	a := acquire(t, "127.0.0.1:0", nil)
	b := acquire(t, a.Addr(), nil)
	if _, err := a.Handle("/a", text("A")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Handle("/b", text("B")); err != nil {
		t.Fatal(err)
	}
	addr := a.Addr()
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(context.Background()); err != nil { // idempotent: b keeps its reference
		t.Fatal(err)
	}
	if code, body := get(t, plain, "http://"+addr+"/b"); code != 200 || body != "B" {
		t.Fatalf("GET /b after the first Release = %d %q, want 200 B", code, body)
	}
	if code, _ := get(t, plain, "http://"+addr+"/a"); code != http.StatusNotFound {
		t.Fatalf("GET /a after its handle was released = %d, want 404", code)
	}
	if _, err := a.Handle("/again", text("")); err == nil {
		t.Fatal("Handle on a released handle succeeded")
	}
	if err := b.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, timeout); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections after the last Release", addr)
	}
	// The address can be acquired again at once.
	c := acquire(t, addr, nil)
	if c.Addr() != addr {
		t.Fatalf("re-Acquire got %q", c.Addr())
	}
}

func TestShutdownWaitsForRequests(t *testing.T) {
	s, err := httpmux.Acquire(context.Background(), "127.0.0.1:0", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	started, finish := make(chan struct{}), make(chan struct{})
	if _, err := s.Handle("/slow", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-finish
		_, _ = io.WriteString(w, "done")
	})); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		resp, err := plain.Get("http://" + s.Addr() + "/slow")
		if err != nil {
			got <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	released := make(chan error, 1)
	go func() { released <- s.Release(context.Background()) }()
	select {
	case err := <-released:
		t.Fatalf("Release returned (%v) while a request was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if body := <-got; body != "done" {
		t.Fatalf("the running request got %q, want done", body)
	}

	// A shutdown cut short by its context reports it and still stops.
	s, err = httpmux.Acquire(context.Background(), "127.0.0.1:0", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	defer close(block)
	started = make(chan struct{})
	if _, err := s.Handle("/stuck", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(started)
		<-block
	})); err != nil {
		t.Fatal(err)
	}
	go func() {
		if resp, err := plain.Get("http://" + s.Addr() + "/stuck"); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Release(ctx); err == nil || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("Release with a stuck request = %v, want an error naming %s", err, s.Addr())
	}
}

func TestHandlePatterns(t *testing.T) {
	s := acquire(t, "127.0.0.1:0", nil)
	removeA, err := s.Handle("/a", text("A"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Handle("GET /items/{id}", text("item")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pattern string
		want    string
	}{
		{"/a", "already mounted"},
		{"GET /items/{name}", "conflicts"},
		{"/{", "bad"},
		{"", "invalid pattern"},
	} {
		_, err := s.Handle(tc.pattern, text("x"))
		if err == nil {
			t.Errorf("Handle(%q) succeeded", tc.pattern)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, s.Addr()) {
			t.Errorf("Handle(%q) = %q, want an error with %q naming %s", tc.pattern, msg, tc.want, s.Addr())
		}
	}
	if _, err := s.Handle("/nil", nil); err == nil {
		t.Error("Handle with a nil handler succeeded")
	}
	// Refused patterns left the mounted ones alone.
	if code, body := get(t, plain, "http://"+s.Addr()+"/a"); code != 200 || body != "A" {
		t.Fatalf("GET /a = %d %q", code, body)
	}
	removeA()
	removeA() // idempotent
	if code, _ := get(t, plain, "http://"+s.Addr()+"/a"); code != http.StatusNotFound {
		t.Fatalf("GET /a after remove = %d, want 404", code)
	}
	if _, err := s.Handle("/a", text("A2")); err != nil {
		t.Fatalf("Handle(/a) after remove: %v", err)
	}
	if code, body := get(t, plain, "http://"+s.Addr()+"/a"); code != 200 || body != "A2" {
		t.Fatalf("GET /a = %d %q, want the new handler", code, body)
	}
}

func TestTLS(t *testing.T) {
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	serverTLS.NextProtos = []string{"h2", "http/1.1"}
	s := acquire(t, "127.0.0.1:0", serverTLS)
	if !s.TLS() {
		t.Fatal("TLS() = false")
	}
	if _, err := s.Handle("/", text("secure")); err != nil {
		t.Fatal(err)
	}
	rt := &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true, DisableKeepAlives: true}
	client := &http.Client{Transport: rt, Timeout: timeout}
	resp, err := client.Get("https://" + s.Addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "secure" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("GET = %s %q, want HTTP/1.1 \"secure\" (HTTP/2 is off so upgrades work)", resp.Proto, body)
	}

	ctx := context.Background()
	for _, tc := range []struct {
		name string
		addr string
		cfg  *tls.Config
		want string
	}{
		{"plain on TLS", s.Addr(), nil, "with TLS"},
		{"other config", s.Addr(), clientTLSWithCert(t), "another *tls.Config"},
		{"no certificate", "127.0.0.1:0", &tls.Config{}, "no certificate"},
	} {
		if h, err := httpmux.Acquire(ctx, tc.addr, transport.Options{TLS: tc.cfg}); err == nil {
			_ = h.Release(ctx)
			t.Errorf("%s: Acquire succeeded", tc.name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Acquire = %q, want an error containing %q", tc.name, err, tc.want)
		}
	}
	p := acquire(t, "127.0.0.1:0", nil)
	if h, err := httpmux.Acquire(ctx, p.Addr(), transport.Options{TLS: serverTLS}); err == nil {
		_ = h.Release(ctx)
		t.Error("TLS Acquire of a plain server succeeded")
	} else if !strings.Contains(err.Error(), "without TLS") {
		t.Errorf("TLS Acquire of a plain server = %q", err)
	}
}

func TestBadAddress(t *testing.T) {
	ctx := context.Background()
	for _, addr := range []string{"", "127.0.0.1", "http://127.0.0.1:80"} {
		if s, err := httpmux.Acquire(ctx, addr, transport.Options{}); err == nil {
			_ = s.Release(ctx)
			t.Errorf("Acquire(%q) succeeded", addr)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if s, err := httpmux.Acquire(cancelled, "127.0.0.1:0", transport.Options{}); err == nil {
		_ = s.Release(ctx)
		t.Error("Acquire with a cancelled context succeeded")
	}
	// A port taken by someone else is reported with the address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if s, err := httpmux.Acquire(ctx, ln.Addr().String(), transport.Options{}); err == nil {
		_ = s.Release(ctx)
		t.Error("Acquire of a taken port succeeded")
	} else if !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Acquire of a taken port = %q, want the address in it", err)
	}
}

func ExampleAcquire() {
	ctx := context.Background()
	api, err := httpmux.Acquire(ctx, "127.0.0.1:0", transport.Options{})
	if err != nil {
		panic(err)
	}
	defer api.Release(ctx)
	if _, err := api.Handle("GET /health", text("ok")); err != nil {
		panic(err)
	}

	// Another user of the same address shares the server.
	other, err := httpmux.Acquire(ctx, api.Addr(), transport.Options{})
	if err != nil {
		panic(err)
	}
	defer other.Release(ctx)
	_, err = other.Handle("GET /health", text("again"))
	fmt.Println(strings.Replace(err.Error(), api.Addr(), "ADDR", 1))

	resp, err := plain.Get("http://" + other.Addr() + "/health")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// httpmux: ADDR: pattern "GET /health" is already mounted
	// 200 ok
}

// clientTLSWithCert returns another server config, distinct from the one in use.
func clientTLSWithCert(t *testing.T) *tls.Config {
	t.Helper()
	s, _ := transporttest.TLSConfigs(t)
	return s
}

// Servers are shared within a scope (transport.Options.Ports): the same
// address acquired in another scope is not the same server (binding it
// again fails), and the process-wide scope (nil) is a scope like others.
func TestScopes(t *testing.T) {
	ctx := context.Background()
	var mine, theirs transport.Ports
	a, err := httpmux.Acquire(ctx, "127.0.0.1:0", transport.Options{Ports: &mine})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(ctx)
	b, err := httpmux.Acquire(ctx, a.Addr(), transport.Options{Ports: &mine})
	if err != nil {
		t.Fatalf("the same scope did not share %s: %v", a.Addr(), err)
	}
	defer b.Release(ctx)
	for name, o := range map[string]transport.Options{"another scope": {Ports: &theirs}, "the process scope": {}} {
		if s, err := httpmux.Acquire(ctx, a.Addr(), o); err == nil {
			s.Release(ctx)
			t.Errorf("%s found the server of a scope it is not in", name)
		} else if !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("%s: %v; want the bind to fail", name, err)
		}
	}
}

// A TLS config that picks its configuration per client (GetConfigForClient, as for
// certificates chosen by SNI) gets HTTP/1.1 too: a chosen config offering h2 would make an
// HTTP/2 client talk h2 to a server that speaks only HTTP/1.1, and fail.
func TestTLSConfigForClientStaysHTTP11(t *testing.T) {
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	serverTLS.NextProtos = []string{"h2", "http/1.1"}
	perClient := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return serverTLS, nil }}
	s := acquire(t, "127.0.0.1:0", perClient)
	if _, err := s.Handle("/", text("secure")); err != nil {
		t.Fatal(err)
	}
	rt := &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true, DisableKeepAlives: true}
	client := &http.Client{Transport: rt, Timeout: timeout}
	resp, err := client.Get("https://" + s.Addr() + "/")
	if err != nil {
		t.Fatalf("GET over TLS with a per-client config: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "secure" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("GET = %s %d %q, want HTTP/1.1 \"secure\"", resp.Proto, resp.StatusCode, body)
	}
	if len(serverTLS.NextProtos) != 2 {
		t.Errorf("the caller's config was changed: NextProtos = %q", serverTLS.NextProtos)
	}
}
