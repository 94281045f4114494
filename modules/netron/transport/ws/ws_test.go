package ws_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
	"github.com/titanframework/titan/modules/netron/transport/ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	t.Parallel()
	transporttest.Run(t, "ws")
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{"ws", "wss"} {
		tr, err := transport.Lookup(scheme)
		if err != nil {
			t.Fatal(err)
		}
		want := transport.Capabilities{Streaming: true, Bidirectional: true, Binary: true, Reconnection: true, MaxFrameSize: 16 << 20}
		if got := tr.Capabilities(); got != want {
			t.Errorf("%s: Capabilities() = %+v, want %+v", scheme, got, want)
		}
		if tr.Name() != "ws" {
			t.Errorf("%s: Name() = %q, want ws", scheme, tr.Name())
		}
	}
}

func TestBadAddresses(t *testing.T) {
	t.Parallel()
	serverTLS, _ := transporttest.TLSConfigs(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		addr string
		o    transport.Options
		want string // in the error
	}{
		{"ws://127.0.0.1", transport.Options{}, "explicit port"},
		{"ws:127.0.0.1:1", transport.Options{}, "ws://host:port"},
		{"ws://user@127.0.0.1:0", transport.Options{}, "ws://host:port"},
		{"ws://127.0.0.1:0/{id}", transport.Options{}, "braces"},
		{"ws://127.0.0.1:0/a%20b", transport.Options{}, "escaped"},
		{"ws://127.0.0.1:0", transport.Options{TLS: serverTLS}, "use wss://"},
		{"wss://127.0.0.1:0", transport.Options{}, "Options.TLS is required"},
		{"wss://127.0.0.1:0", transport.Options{TLS: &tls.Config{}}, "certificate"},
		{"ws://127.0.0.1:0/?colour=blue", transport.Options{}, `unknown query parameter "colour"`},
		{"ws://127.0.0.1:0/?ping=soon", transport.Options{}, `ping="soon"`},
		{"ws://127.0.0.1:0/?ping=-1s", transport.Options{}, `ping="-1s"`},
		{"ws://127.0.0.1:0/?pingTimeout=0s", transport.Options{}, `pingTimeout="0s"`},
		{"ws://127.0.0.1:0/?origins=[bad", transport.Options{}, `pattern "[bad"`},
		{"ws://127.0.0.1:0", transport.Options{MaxFrameSize: -1}, "MaxFrameSize"},
	} {
		l, err := transport.Listen(ctx, tc.addr, tc.o)
		if err == nil {
			_ = l.Close()
			t.Errorf("Listen(%q) succeeded", tc.addr)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Listen(%q) = %q, want an error containing %q", tc.addr, err, tc.want)
		}
	}
	if c, err := transport.Dial(ctx, "ws://127.0.0.1:1", transport.Options{TLS: serverTLS}); err == nil {
		_ = c.Close()
		t.Error("Dial ws:// with a TLS config succeeded")
	}
	// Schemes are case-insensitive.
	up := listen(t, "ws://127.0.0.1:0", transport.Options{})
	echo(t, up)
	if c, err := transport.Dial(ctx, "WS"+strings.TrimPrefix(up.Addr(), "ws"), transport.Options{}); err != nil {
		t.Errorf("Dial with an upper-case scheme: %v", err)
	} else {
		_ = c.Close()
	}
	// A dial error does not show the token of the address.
	l := listen(t, "ws://127.0.0.1:0/here", transport.Options{})
	wrong := strings.TrimSuffix(l.Addr(), "/here") + "/elsewhere?token=s3cret"
	if c, err := transport.Dial(ctx, wrong, transport.Options{}); err == nil {
		_ = c.Close()
		t.Errorf("Dial(%q) succeeded", wrong)
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Dial error %q shows the token", err)
	}
}

// A dial that fails before any HTTP answer (nothing listens on the port) does not show the
// token of the address either: net/http names the request URL, query included, in its errors.
func TestDialErrorHidesToken(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := nl.Addr().String()
	_ = nl.Close()
	addr := "ws://" + free + "/netron?token=s3cret"
	c, err := transport.Dial(ctx, addr, transport.Options{})
	if err == nil {
		_ = c.Close()
		t.Fatalf("Dial(%q) succeeded with nothing listening", addr)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Dial error %q shows the token", err)
	}
	if !strings.Contains(err.Error(), free) {
		t.Errorf("Dial error %q does not name the address %s", err, free)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	l := listen(t, "wss://127.0.0.1:0/secure", transport.Options{TLS: serverTLS})
	if !strings.HasPrefix(l.Addr(), "wss://127.0.0.1:") || !strings.HasSuffix(l.Addr(), "/secure") {
		t.Fatalf("Addr() = %q, want wss://127.0.0.1:port/secure", l.Addr())
	}
	accepted := accept(t, l)
	client := dial(t, l.Addr(), transport.Options{TLS: clientTLS})
	server := awaitConn(t, accepted)
	if !strings.HasPrefix(client.LocalAddr(), "wss://") || server.RemoteAddr() != client.LocalAddr() {
		t.Errorf("client.LocalAddr() = %q, server.RemoteAddr() = %q", client.LocalAddr(), server.RemoteAddr())
	}
	msg := bytes.Repeat([]byte("secret "), 20000)
	if err := client.WriteMessages(msg); err != nil {
		t.Fatal(err)
	}
	if got, err := server.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("server read %d bytes, %v", len(got), err)
	}
	if err := server.WriteMessages([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if got, err := client.ReadMessage(); err != nil || string(got) != "reply" {
		t.Fatalf("client read %q, %v", got, err)
	}

	// Without the test root the certificate is not trusted.
	if c, err := transport.Dial(testContext(t), l.Addr(), transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatal("Dial without the test root succeeded")
	}
	// A plain ws client is not served by a wss listener.
	plain := "ws" + strings.TrimPrefix(l.Addr(), "wss")
	if c, err := transport.Dial(testContext(t), plain, transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatal("plain Dial of a wss listener succeeded")
	}
}

// TestSharedPort mounts two listeners with different paths on one port.
func TestSharedPort(t *testing.T) {
	t.Parallel()
	a := listen(t, "ws://127.0.0.1:0/a", transport.Options{})
	host := strings.TrimSuffix(strings.TrimPrefix(a.Addr(), "ws://"), "/a")
	b := listen(t, "ws://"+host+"/b", transport.Options{})
	if b.Addr() != "ws://"+host+"/b" {
		t.Fatalf("b.Addr() = %q, want ws://%s/b", b.Addr(), host)
	}
	echo(t, a)
	echo(t, b)
	for _, l := range []transport.Listener{a, b} {
		c := dial(t, l.Addr(), transport.Options{})
		if err := c.WriteMessages([]byte(l.Addr())); err != nil {
			t.Fatal(err)
		}
		if got, err := c.ReadMessage(); err != nil || string(got) != l.Addr() {
			t.Fatalf("echo via %s = %q, %v", l.Addr(), got, err)
		}
	}
	// The same path twice is refused; an unknown path is not upgraded.
	if l, err := transport.Listen(testContext(t), b.Addr(), transport.Options{}); err == nil {
		_ = l.Close()
		t.Fatalf("second Listen(%q) succeeded", b.Addr())
	}
	if c, err := transport.Dial(testContext(t), "ws://"+host+"/c", transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatal("Dial of an unmounted path succeeded")
	}
	// Closing one listener leaves the other serving.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, b.Addr(), transport.Options{})
	if err := c.WriteMessages([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadMessage(); err != nil || string(got) != "still here" {
		t.Fatalf("echo after closing the other listener = %q, %v", got, err)
	}
	if c, err := transport.Dial(testContext(t), "ws://"+host+"/a", transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatal("Dial of a closed listener's path succeeded")
	}
}

// TestHTTPAndWebSocketOnOnePort serves plain HTTP routes and a catch-all WebSocket endpoint on
// one port: the more specific HTTP routes win, other paths are upgraded.
func TestHTTPAndWebSocketOnOnePort(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{})
	echo(t, l)
	host := strings.TrimPrefix(l.Addr(), "ws://")
	srv, err := httpmux.Acquire(testContext(t), host, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Release(context.Background()) })
	if _, err := srv.Handle("GET /health", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})); err != nil {
		t.Fatal(err)
	}

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{
		{"/health", 200, "ok"},
		{"/", http.StatusUpgradeRequired, ""}, // the endpoint's own path
		{"/elsewhere", http.StatusNotFound, ""},
	} {
		resp, err := hc.Get("http://" + host + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("GET %s = %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
	for _, p := range []string{"", "/netron", "/any/path"} {
		c := dial(t, "ws://"+host+p, transport.Options{})
		if err := c.WriteMessages([]byte("hi")); err != nil {
			t.Fatal(err)
		}
		if got, err := c.ReadMessage(); err != nil || string(got) != "hi" {
			t.Fatalf("echo via ws://%s%s = %q, %v", host, p, got, err)
		}
	}
	// The listener does not own the port: closing it leaves the HTTP route up.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get("http://" + host + "/health")
	if err != nil {
		t.Fatalf("GET /health after the ws listener closed: %v", err)
	}
	_ = resp.Body.Close()
	if c, err := transport.Dial(testContext(t), l.Addr(), transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatal("Dial after the ws listener closed succeeded")
	}
}

// TestRawClient talks to the listener with a client written from RFC 6455.
func TestRawClient(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/raw", transport.Options{})
	echo(t, l)
	c := rawUpgrade(t, l.Addr())
	for _, msg := range [][]byte{[]byte("hello"), bytes.Repeat([]byte{0xA5}, 300), bytes.Repeat([]byte("x"), 70000), {}} {
		c.writeFrame(true, opBinary, msg)
		f, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if !f.fin || f.opcode != opBinary || f.masked {
			t.Fatalf("server frame fin=%v opcode=%d masked=%v, want an unmasked final binary frame", f.fin, f.opcode, f.masked)
		}
		if !bytes.Equal(f.payload, msg) {
			t.Fatalf("echo of %d bytes returned %d bytes", len(msg), len(f.payload))
		}
	}
	// A fragmented message with a ping between its fragments arrives whole.
	c.writeFrame(false, opBinary, []byte("frag"))
	c.writeFrame(true, opPing, []byte("p1"))
	c.writeFrame(true, opContinuation, []byte("mented"))
	var got []rawFrame
	for len(got) < 2 {
		f, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, f)
	}
	if got[0].opcode != opPong || string(got[0].payload) != "p1" {
		t.Errorf("first frame opcode %d %q, want the pong p1", got[0].opcode, got[0].payload)
	}
	if got[1].opcode != opBinary || string(got[1].payload) != "fragmented" {
		t.Errorf("second frame opcode %d %q, want binary \"fragmented\"", got[1].opcode, got[1].payload)
	}
	// Closing: the server answers the close frame with the same status and ends the stream.
	c.writeFrame(true, opClose, []byte{0x03, 0xE8}) // 1000
	f, err := c.readFrame()
	if err != nil || f.opcode != opClose || len(f.payload) < 2 || f.payload[0] != 0x03 || f.payload[1] != 0xE8 {
		t.Fatalf("answer to close = %+v, %v; want close 1000", f, err)
	}
	if _, err := c.readFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the close handshake = %v, want EOF", err)
	}
}

// TestLargeBatchIsWrittenInParts: a batch larger than what a connection
// gathers before writing (corkFlush) leaves in a few writes, not one per
// message and not all at once, and arrives whole and in order.
func TestLargeBatchIsWrittenInParts(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/large", transport.Options{})
	conns := accept(t, l)
	c := rawUpgrade(t, l.Addr())
	srv := awaitConn(t, conns)
	wc := srv.(transport.WriteCounter)
	var msgs [][]byte
	for i := range 40 {
		m := make([]byte, 100<<10)
		for j := range m {
			m[j] = byte(i + j)
		}
		msgs = append(msgs, m)
	}
	before := wc.Writes()
	done := make(chan error, 1)
	go func() { done <- srv.WriteMessages(msgs...) }() // the reader below drains the socket
	for i, m := range msgs {
		f, err := c.readFrame()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(f.payload, m) {
			t.Fatalf("message %d: %d bytes, not the %d sent", i, len(f.payload), len(m))
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := wc.Writes() - before; got < 3 || got > 8 {
		t.Errorf("a batch of %d messages of 100 KiB took %d writes, want a few (one per MiB gathered)", len(msgs), got)
	}
}

// TestBatchIsOneWrite checks that a batch of messages leaves in one socket
// write and still arrives as separate, intact WebSocket messages.
func TestBatchIsOneWrite(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/batch", transport.Options{})
	conns := accept(t, l)
	c := rawUpgrade(t, l.Addr())
	srv := awaitConn(t, conns)
	wc, ok := srv.(transport.WriteCounter)
	if !ok {
		t.Fatal("ws.Conn does not count its writes")
	}
	var msgs [][]byte
	for i := range 100 {
		msgs = append(msgs, bytes.Repeat([]byte{byte(i)}, i*7))
	}
	before := wc.Writes()
	if err := srv.WriteMessages(msgs...); err != nil {
		t.Fatal(err)
	}
	if got := wc.Writes() - before; got != 1 {
		t.Errorf("a batch of %d messages took %d writes, want 1", len(msgs), got)
	}
	for i, m := range msgs {
		f, err := c.readFrame()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !f.fin || f.opcode != opBinary || !bytes.Equal(f.payload, m) {
			t.Fatalf("message %d: fin=%v opcode=%d %d bytes, want a final binary frame of %d bytes", i, f.fin, f.opcode, len(f.payload), len(m))
		}
	}
	// A single message still goes out at once.
	if err := srv.WriteMessages([]byte("one")); err != nil {
		t.Fatal(err)
	}
	if f, err := c.readFrame(); err != nil || string(f.payload) != "one" {
		t.Fatalf("single message: %q, %v", f.payload, err)
	}
}

// TestTextMessage checks that ReadMessage takes text messages, as netron-browser sends its
// client-id handshake as text.
func TestTextMessage(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{})
	accepted := accept(t, l)
	client, _, err := coderDial(t, l.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	server := awaitConn(t, accepted)
	hello := `{"type":"client-id","id":"browser-1"}`
	if err := client.Write(testContext(t), websocket.MessageText, []byte(hello)); err != nil {
		t.Fatal(err)
	}
	if got, err := server.ReadMessage(); err != nil || string(got) != hello {
		t.Fatalf("ReadMessage = %q, %v; want the text message", got, err)
	}
	// The server's messages are binary.
	if err := server.WriteMessages([]byte(`{"type":"id","id":"server"}`)); err != nil {
		t.Fatal(err)
	}
	typ, got, err := client.Read(testContext(t))
	if err != nil || typ != websocket.MessageBinary || string(got) != `{"type":"id","id":"server"}` {
		t.Fatalf("client Read = %v %q, %v; want a binary message", typ, got, err)
	}
}

func TestOversizeMessageClosesConn(t *testing.T) {
	t.Parallel()
	const limit = 1024
	l := listen(t, "ws://127.0.0.1:0", transport.Options{MaxFrameSize: limit})
	accepted := accept(t, l)
	client, _, err := coderDial(t, l.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	server := awaitConn(t, accepted)
	ctx := testContext(t)
	if err := client.Write(ctx, websocket.MessageBinary, make([]byte, limit)); err != nil {
		t.Fatal(err)
	}
	if got, err := server.ReadMessage(); err != nil || len(got) != limit {
		t.Fatalf("ReadMessage of exactly the limit = %d bytes, %v", len(got), err)
	}
	_ = client.Write(ctx, websocket.MessageBinary, make([]byte, limit+1))
	_, err = server.ReadMessage()
	if !errors.Is(err, transport.ErrFrameTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("ReadMessage of limit+1 bytes = %v, want ErrFrameTooLarge naming the limit", err)
	}
	if _, _, err := client.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("client Read = %v, want close status 1009", err)
	}
	if err := server.WriteMessages([]byte("x")); err == nil {
		t.Fatal("WriteMessages on the dropped connection succeeded")
	}
}

func TestOrigins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query  string
		origin string
		ok     bool
	}{
		{"", "", true},
		{"", "http://{host}", true}, // same host
		{"", "https://evil.example", false},
		{"?origins=https://app.example.com", "https://app.example.com", true},
		{"?origins=https://app.example.com", "http://app.example.com", false},
		{"?origins=https://app.example.com,https://*.example.com", "https://a.example.com", true},
		{"?origins=https://app.example.com,https://*.example.com", "https://example.org", false},
		{"?origins=app.example.com", "http://app.example.com", true},
		{"?origins=*", "https://anything.example", true},
	} {
		l := listen(t, "ws://127.0.0.1:0/"+tc.query, transport.Options{})
		echo(t, l)
		origin := strings.ReplaceAll(tc.origin, "{host}", strings.TrimPrefix(l.Addr(), "ws://"))
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := coderDial(t, l.Addr(), h)
		if tc.ok && err != nil {
			t.Errorf("listen %q, Origin %q: dial failed: %v", tc.query, origin, err)
		}
		if !tc.ok {
			if err == nil {
				_ = c.CloseNow()
				t.Errorf("listen %q, Origin %q: dial succeeded, want 403", tc.query, origin)
			} else if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("listen %q, Origin %q: dial error %v, want a 403 answer", tc.query, origin, err)
			}
		}
		_ = l.Close()
	}
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/netron", transport.Options{})
	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
		want   string
	}{
		{"none", "", nil, ""},
		{"query", "?token=q-token", nil, "q-token"},
		{"header", "", http.Header{"Authorization": {"Bearer h-token"}}, "h-token"},
		{"header wins", "?token=q-token", http.Header{"Authorization": {"bearer  h-token "}}, "h-token"},
		{"basic is no bearer", "?token=q-token", http.Header{"Authorization": {"Basic dXNlcjpwdw=="}}, "q-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			accepted := accept(t, l)
			h := http.Header{"X-Netron-Id": {"client-7"}}
			for k, v := range tc.header {
				h[k] = v
			}
			if _, _, err := coderDial(t, l.Addr()+tc.query, h); err != nil {
				t.Fatal(err)
			}
			server := awaitConn(t, accepted)
			creds, ok := server.(transport.Credentials)
			if !ok {
				t.Fatalf("%T does not implement transport.Credentials", server)
			}
			if got := creds.Token(); got != tc.want {
				t.Errorf("Token() = %q, want %q", got, tc.want)
			}
			if got := server.(*ws.Conn).Header().Get("X-Netron-Id"); got != "client-7" {
				t.Errorf("Header().Get(X-Netron-Id) = %q", got)
			}
		})
	}
	// Through the transport's own Dial the query reaches the server but not RemoteAddr.
	accepted := accept(t, l)
	client := dial(t, l.Addr()+"?token=t1", transport.Options{})
	server := awaitConn(t, accepted)
	if got := server.(transport.Credentials).Token(); got != "t1" {
		t.Errorf("Token() = %q, want t1", got)
	}
	if client.RemoteAddr() != l.Addr() {
		t.Errorf("client.RemoteAddr() = %q, want %q", client.RemoteAddr(), l.Addr())
	}
	if client.(transport.Credentials).Token() != "" || client.(*ws.Conn).Header() != nil {
		t.Error("a dialed connection reports credentials")
	}
}

// TestCloseStatus checks the close codes: 1001 "Server closing" from the server side, 1000
// from the client side.
func TestCloseStatus(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{})
	accepted := accept(t, l)
	client, _, err := coderDial(t, l.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	server := awaitConn(t, accepted)
	read := make(chan error, 1)
	go func() {
		_, _, err := client.Read(context.Background())
		read <- err
	}()
	start := time.Now()
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v with a peer that answers", d)
	}
	var ce websocket.CloseError
	if err := <-read; !errors.As(err, &ce) || ce.Code != websocket.StatusGoingAway || ce.Reason != "Server closing" {
		t.Fatalf("client Read after server Close = %v, want close 1001 \"Server closing\"", err)
	}

	// A dialed connection closes with 1000, against coder/websocket's own server.
	got := make(chan error, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			got <- err
			return
		}
		defer c.CloseNow()
		_, _, err = c.Read(context.Background())
		got <- err
	}), ReadHeaderTimeout: timeout}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }()
	defer func() { _ = hs.Close(); <-served }()
	c := dial(t, "ws://"+ln.Addr().String(), transport.Options{})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("server Read after client Close = %v, want close 1000", err)
	}
}

// TestKeepAlive drops a peer that never answers pings and keeps one that does.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	// Each case has a listener of its own, and they run in parallel: they
	// wait out ping intervals.
	listenKeepAlive := func(t *testing.T) transport.Listener {
		l := listen(t, "ws://127.0.0.1:0/?ping=100ms&pingTimeout=200ms", transport.Options{})
		if strings.Contains(l.Addr(), "ping") {
			t.Errorf("Addr() = %q shows the listen options", l.Addr())
		}
		return l
	}

	t.Run("DeadPeer", func(t *testing.T) {
		t.Parallel()
		l := listenKeepAlive(t)
		accepted := accept(t, l)
		raw := rawUpgrade(t, l.Addr())
		server := awaitConn(t, accepted)
		read := make(chan error, 1)
		go func() {
			_, err := server.ReadMessage()
			read <- err
		}()
		f, err := raw.readFrame() // the ping, which the raw client does not answer
		if err != nil || f.opcode != opPing {
			t.Fatalf("first frame = %+v, %v; want a ping", f, err)
		}
		select {
		case err := <-read:
			if !errors.Is(err, ws.ErrNoPong) {
				t.Fatalf("ReadMessage = %v, want ErrNoPong", err)
			}
		case <-time.After(timeout):
			t.Fatal("the dead peer was not dropped")
		}
		for { // the server dropped the TCP connection
			if _, err := raw.readFrame(); err != nil {
				break
			}
		}
		if err := server.WriteMessages([]byte("x")); !errors.Is(err, ws.ErrNoPong) {
			t.Errorf("WriteMessages after the drop = %v, want ErrNoPong", err)
		}
	})

	t.Run("LivePeer", func(t *testing.T) {
		t.Parallel()
		l := listenKeepAlive(t)
		accepted := accept(t, l)
		client := dial(t, l.Addr(), transport.Options{})
		server := awaitConn(t, accepted)
		// Both sides read all the time, as the engine does; pongs are read by ReadMessage.
		serverRead := make(chan error, 1)
		go func() {
			for {
				m, err := server.ReadMessage()
				if err != nil {
					serverRead <- err
					return
				}
				if err := server.WriteMessages(m); err != nil {
					serverRead <- err
					return
				}
			}
		}()
		for i := range 10 {
			time.Sleep(60 * time.Millisecond)
			if err := client.WriteMessages([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			if m, err := client.ReadMessage(); err != nil || len(m) != 1 || m[0] != byte(i) {
				t.Fatalf("round trip %d = %v, %v", i, m, err)
			}
		}
		_ = server.Close()
		if err := <-serverRead; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("server ReadMessage = %v, want net.ErrClosed after Close", err)
		}
	})

	// The engine stops reading a connection at its cap of calls; the pongs it does not read
	// must not drop a live peer.
	t.Run("OwnerNotReading", func(t *testing.T) {
		t.Parallel()
		l := listenKeepAlive(t)
		accepted := accept(t, l)
		client := dial(t, l.Addr(), transport.Options{})
		server := awaitConn(t, accepted)
		clientRead := make(chan error, 1)
		go func() { // the client reads all the time, so it answers pings
			for {
				if _, err := client.ReadMessage(); err != nil {
					clientRead <- err
					return
				}
			}
		}()
		if err := client.WriteMessages([]byte("a")); err != nil {
			t.Fatal(err)
		}
		if m, err := server.ReadMessage(); err != nil || string(m) != "a" {
			t.Fatalf("first ReadMessage = %q, %v", m, err)
		}
		time.Sleep(time.Second) // ten ping intervals without a ReadMessage
		if err := client.WriteMessages([]byte("b")); err != nil {
			t.Fatal(err)
		}
		if m, err := server.ReadMessage(); err != nil || string(m) != "b" {
			t.Fatalf("ReadMessage after a pause = %q, %v; want \"b\"", m, err)
		}
		_ = client.Close()
		<-clientRead
	})
}

func BenchmarkRoundTrip(b *testing.B) { transporttest.BenchmarkRoundTrip(b, "ws") }

// Close waits for the peer's close frame at most Options.CloseTimeout: a
// peer that is not reading never sends one.
func TestCloseTimeout(t *testing.T) {
	t.Parallel()
	for _, wait := range []time.Duration{150 * time.Millisecond, 600 * time.Millisecond} {
		l := listen(t, "ws://127.0.0.1:0", transport.Options{CloseTimeout: wait})
		accepted := accept(t, l)
		client := dial(t, l.Addr(), transport.Options{CloseTimeout: wait})
		server := awaitConn(t, accepted)
		_ = client // the client reads nothing: it never answers the close
		start := time.Now()
		if err := server.Close(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < wait-50*time.Millisecond || took > wait+400*time.Millisecond {
			t.Fatalf("Close with CloseTimeout %v took %v", wait, took)
		}
	}
	if _, err := transport.Listen(testContext(t), "ws://127.0.0.1:0", transport.Options{CloseTimeout: -1}); err == nil ||
		!strings.Contains(err.Error(), "CloseTimeout") {
		t.Fatalf("a negative CloseTimeout: %v, want an error naming it", err)
	}
}

// A listen option given twice in the query is refused, naming it, rather than one of its
// values being used silently: ?origins=A&origins=B allowed only A.
func TestRepeatedListenOptionIsRefused(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	for _, q := range []string{
		"origins=https://a.example&origins=https://b.example",
		"ping=10s&ping=0",
		"pingTimeout=1s&pingTimeout=2s",
	} {
		addr := "ws://127.0.0.1:0/?" + q
		l, err := transport.Listen(ctx, addr, transport.Options{})
		if err == nil {
			_ = l.Close()
			t.Errorf("Listen(%q) succeeded, want an error: the parameter is given more than once", addr)
			continue
		}
		key, _, _ := strings.Cut(q, "=")
		if !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "more than once") {
			t.Errorf("Listen(%q) = %q, want an error saying %s is given more than once", addr, err, key)
		}
	}
}

// A peer sending a large message slowly, within FrameMinRate, is not dropped by keep-alive:
// a client answers a ping only once the frame it is writing is out (the raw client here not
// before its message is), and the bytes of the message arriving meanwhile show it is alive.
func TestKeepAliveSparesSlowMessage(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/?ping=50ms&pingTimeout=500ms", transport.Options{})
	accepted := accept(t, l)
	raw := rawUpgrade(t, l.Addr())
	server := awaitConn(t, accepted)
	type result struct {
		msg []byte
		err error
	}
	read := make(chan result, 1)
	go func() {
		m, err := server.ReadMessage()
		read <- result{bytes.Clone(m), err}
	}()
	msg := bytes.Repeat([]byte("slow but steady "), 5<<10) // 80 KiB
	wire := maskedFrame(msg)
	// 512 bytes every 10 ms: about 1.6 s, many ping timeouts, far above the minimum rate.
	for off := 0; off < len(wire); off += 512 {
		if _, err := raw.conn.Write(wire[off:min(off+512, len(wire))]); err != nil {
			t.Errorf("raw write at %d of %d bytes: %v", off, len(wire), err)
			break
		}
		time.Sleep(10 * time.Millisecond) // the pace under test
	}
	select {
	case r := <-read:
		if r.err != nil || !bytes.Equal(r.msg, msg) {
			t.Fatalf("ReadMessage = %d bytes, %v; want the %d-byte message", len(r.msg), r.err, len(msg))
		}
	case <-time.After(timeout):
		t.Fatal("ReadMessage did not return")
	}
}

// TestLinkLocalAddress: a listener on an IPv6 link-local address has an Addr that Dial takes,
// its zone escaped as in URLs (ws://[fe80::1%25eth0]:7080), and so are the addresses of its
// connections.
func TestLinkLocalAddress(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://"+transporttest.LinkLocalHost(t)+":0/p", transport.Options{})
	accepted := accept(t, l)
	client := dial(t, l.Addr(), transport.Options{})
	server := awaitConn(t, accepted)
	for _, a := range []string{l.Addr(), client.LocalAddr(), client.RemoteAddr(), server.LocalAddr(), server.RemoteAddr()} {
		if u, err := url.Parse(a); err != nil || !strings.Contains(u.Host, "%") {
			t.Errorf("address %q: not a URL with the zone (%v)", a, err)
		}
	}
}

// capturedConn is a client's socket under TLS whose writes are kept, so that the test sends
// the TLS records itself.
type capturedConn struct {
	net.Conn
	capture bool
	kept    []byte
}

func (c *capturedConn) Write(p []byte) (int, error) {
	if c.capture {
		c.kept = append(c.kept, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// TestKeepAliveSparesSlowTLSRecord: over wss, a peer sending a message slowly, within the
// frame limits, is not dropped by keep-alive though a TLS record takes longer than pingTimeout
// to arrive: its bytes count as they arrive on the wire, not once the record is whole.
func TestKeepAliveSparesSlowTLSRecord(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	l := listen(t, "wss://127.0.0.1:0/?ping=20ms&pingTimeout=100ms", transport.Options{TLS: serverTLS})
	accepted := accept(t, l)
	u, _ := url.Parse(l.Addr())
	nc, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	raw := &capturedConn{Conn: nc}
	cfg := clientTLS.Clone()
	cfg.ServerName = u.Hostname()
	tc := tls.Client(raw, cfg)
	if err := upgrade(testContext(t), l.Addr(), tc); err != nil {
		t.Fatal(err)
	}
	server := awaitConn(t, accepted)
	type result struct {
		msg []byte
		err error
	}
	read := make(chan result, 1)
	go func() {
		m, err := server.ReadMessage()
		read <- result{bytes.Clone(m), err}
	}()
	msg := bytes.Repeat([]byte("slow but steady "), 256) // 4 KiB: one TLS record
	raw.capture = true
	if _, err := tc.Write(maskedFrame(msg)); err != nil {
		t.Fatal(err)
	}
	// 128 bytes every 20 ms: the record takes about 650 ms, many ping timeouts, well within
	// the default frame timeout.
	for off := 0; off < len(raw.kept); off += 128 {
		if _, err := nc.Write(raw.kept[off:min(off+128, len(raw.kept))]); err != nil {
			t.Errorf("raw write at %d of %d bytes: %v", off, len(raw.kept), err)
			break
		}
		time.Sleep(20 * time.Millisecond) // the pace under test
	}
	select {
	case r := <-read:
		if r.err != nil || !bytes.Equal(r.msg, msg) {
			t.Fatalf("ReadMessage = %d bytes, %v; want the %d-byte message", len(r.msg), r.err, len(msg))
		}
	case <-time.After(timeout):
		t.Fatal("ReadMessage did not return")
	}
}
