package tcp_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	t.Parallel()
	transporttest.Run(t, "tcp")
}

func TestStream(t *testing.T) {
	transporttest.RunStream(t, "tcp", func(ctx context.Context, addr string) (net.Conn, error) {
		u, err := url.Parse(addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", u.Host)
	})
}

func TestLimits(t *testing.T) {
	transporttest.RunLimits(t, "tcp", transporttest.RawPeer{
		Dial: func(ctx context.Context, addr string, from netip.Addr) (net.Conn, error) {
			u, err := url.Parse(addr)
			if err != nil {
				return nil, err
			}
			var d net.Dialer
			if from.IsValid() {
				d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
			}
			return d.DialContext(ctx, "tcp", u.Host)
		},
		Frame: func(body []byte) []byte {
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		},
		PerIP: true,
	})
}

// TestTLSLimits: the frame clock of tls:// runs beneath TLS, from the first byte of a record.
func TestTLSLimits(t *testing.T) {
	transporttest.RunTLSLimits(t, "tls", transporttest.TLSPeer{
		Frame: func(body []byte) []byte {
			return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
		},
	})
}

// TestTLSHandshakeTimeout: a connection that does not finish its TLS handshake within
// HandshakeTimeout is closed without being accepted, while a client that does is served.
func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	l := transporttest.Listen(t, "tcp", transport.Options{TLS: serverTLS, HandshakeTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var d net.Dialer
	// One that says nothing, one that stops inside its ClientHello.
	silent, err := d.DialContext(ctx, "tcp", mustURL(t, l.Addr()).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	partial, err := d.DialContext(ctx, "tcp", mustURL(t, l.Addr()).Host)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	if _, err := partial.Write([]byte{0x16, 0x03, 0x01, 0x01, 0x00, 0x01}); err != nil {
		t.Fatal(err)
	}
	// A TLS client is accepted and served meanwhile.
	dialed := make(chan transport.Conn, 1)
	go func() {
		c, err := transport.Dial(ctx, l.Addr(), transport.Options{TLS: clientTLS})
		if err != nil {
			t.Errorf("TLS dial: %v", err)
		}
		dialed <- c
	}()
	server, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client := <-dialed
	if client == nil {
		t.FailNow()
	}
	defer client.Close()
	if err := client.WriteMessages([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if m, err := server.ReadMessage(); err != nil || string(m) != "hello" {
		t.Fatalf("server read %q, %v", m, err)
	}
	for _, c := range []net.Conn{silent, partial} {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("a stalled handshake: read %v; want the server to close the connection", err)
		}
	}
	actx, acancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer acancel()
	if c, err := l.Accept(actx); err == nil {
		c.Close()
		t.Fatal("a connection that did not finish its handshake was accepted")
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	tr, err := transport.Lookup("tcp")
	if err != nil {
		t.Fatal(err)
	}
	want := transport.Capabilities{Streaming: true, Bidirectional: true, Binary: true, Reconnection: true, MaxFrameSize: 16 << 20}
	if got := tr.Capabilities(); got != want {
		t.Fatalf("Capabilities() = %+v, want %+v", got, want)
	}
	if tr.Name() != "tcp" {
		t.Fatalf("Name() = %q", tr.Name())
	}
}

func TestBadAddresses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, addr := range []string{"tcp://127.0.0.1", "tcp:127.0.0.1:1", "tcp://127.0.0.1:1/path", "tcp://user@127.0.0.1:1"} {
		if l, err := transport.Listen(ctx, addr, transport.Options{}); err == nil {
			_ = l.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		} else if !strings.Contains(err.Error(), "tcp://host:port") {
			t.Errorf("Listen(%q) error %q does not show the expected form", addr, err)
		}
	}
	// An address given with credentials by mistake: the error shows the
	// address without its password.
	for _, addr := range []string{"tcp://user:s3cret@127.0.0.1:1", "tcp://user:s3cret@127.0.0.1"} {
		_, lerr := transport.Listen(ctx, addr, transport.Options{})
		_, derr := transport.Dial(ctx, addr, transport.Options{})
		for _, err := range []error{lerr, derr} {
			if err == nil || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: error %v, want one without the password", addr, err)
			}
		}
	}
	if _, err := transport.Listen(ctx, "tcp://127.0.0.1:0", transport.Options{MaxFrameSize: -1}); err == nil ||
		!strings.Contains(err.Error(), "MaxFrameSize") {
		t.Errorf("Listen with MaxFrameSize -1 = %v, want an error naming MaxFrameSize", err)
	}
	if _, err := transport.Listen(ctx, "tcp://127.0.0.1:0", transport.Options{TLS: &tls.Config{}}); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("Listen with a TLS config without certificate = %v, want an error about the certificate", err)
	}
}

// A port out of range is refused with an error naming the address, not net's "address 99999:
// invalid port", which names neither the host nor the URL.
func TestPortOutOfRangeNamesAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	serverTLS, _ := transporttest.TLSConfigs(t)
	for _, addr := range []string{"tcp://127.0.0.1:99999", "tls://127.0.0.1:65536"} {
		_, lerr := transport.Listen(ctx, addr, transport.Options{TLS: serverTLS})
		_, derr := transport.Dial(ctx, addr, transport.Options{})
		for op, err := range map[string]error{"Listen": lerr, "Dial": derr} {
			if err == nil {
				t.Errorf("%s(%q) succeeded", op, addr)
			} else if !strings.Contains(err.Error(), addr) {
				t.Errorf("%s(%q) = %q, want an error naming the address", op, addr, err)
			}
		}
	}
}

func TestDialRefused(t *testing.T) {
	t.Parallel()
	l := transporttest.Listen(t, "tcp", transport.Options{})
	addr := l.Addr()
	_ = l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := (&tcp.Transport{}).Dial(ctx, mustURL(t, addr), transport.Options{}); err == nil {
		_ = c.Close()
		t.Fatalf("Dial %s succeeded after the listener closed", addr)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestTLS runs a round trip over TLS and checks that a plain client is not served.
func TestTLS(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	l := transporttest.Listen(t, "tcp", transport.Options{TLS: serverTLS})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// The server side handshakes on its first read, so the client dials in the background.
	type dialed struct {
		c   transport.Conn
		err error
	}
	dialDone := make(chan dialed, 1)
	go func() {
		c, err := transport.Dial(ctx, l.Addr(), transport.Options{TLS: clientTLS})
		dialDone <- dialed{c, err}
	}()
	server, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	type result struct {
		msg []byte
		err error
	}
	read := make(chan result, 1)
	go func() {
		m, err := server.ReadMessage()
		read <- result{append([]byte(nil), m...), err}
	}()
	d := <-dialDone
	if d.err != nil {
		t.Fatalf("TLS dial: %v", d.err)
	}
	client := d.c
	defer client.Close()
	if err := client.WriteMessages([]byte("secret"), []byte("second")); err != nil {
		t.Fatal(err)
	}
	if r := <-read; r.err != nil || string(r.msg) != "secret" {
		t.Fatalf("server read %q, %v", r.msg, r.err)
	}
	if m, err := server.ReadMessage(); err != nil || string(m) != "second" {
		t.Fatalf("server read %q, %v", m, err)
	}
	if err := server.WriteMessages(bytes.Repeat([]byte("r"), 100<<10)); err != nil {
		t.Fatal(err)
	}
	if m, err := client.ReadMessage(); err != nil || len(m) != 100<<10 {
		t.Fatalf("client read %d bytes, %v", len(m), err)
	}
	if _, ok := client.(*framed.Conn).NetConn().(*tls.Conn); !ok {
		t.Fatalf("client NetConn is %T, want *tls.Conn", client.(*framed.Conn).NetConn())
	}

	// A plain client's frames are not taken for TLS records.
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			return
		}
		defer c.Close()
		if m, err := c.ReadMessage(); err == nil {
			t.Errorf("TLS server read %q from a plain client", m)
		}
	}()
	plain := transporttest.Dial(t, l.Addr(), transport.Options{})
	_ = plain.WriteMessages([]byte("hello in the clear"))
	if m, err := plain.ReadMessage(); err == nil {
		t.Fatalf("plain client read %q from a TLS server", m)
	}
}

func BenchmarkRoundTrip(b *testing.B) { transporttest.BenchmarkRoundTrip(b, "tcp") }

// tls:// is TCP with TLS: its listener needs a certificate, its addresses
// say tls://, a client with the test root is served, one without it and a
// plain tcp:// client are not.
func TestTLSScheme(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := transport.Listen(ctx, "tls://127.0.0.1:0", transport.Options{}); err == nil ||
		!strings.Contains(err.Error(), "needs a server certificate") {
		t.Fatalf("Listen tls:// without a certificate = %v, want an error naming the certificate", err)
	}
	if !transport.IsSecure("tls") || transport.IsSecure("tcp") {
		t.Fatal("IsSecure: want tls secure and tcp not")
	}
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	l := transporttest.Listen(t, "tls", transport.Options{TLS: serverTLS})
	if !strings.HasPrefix(l.Addr(), "tls://127.0.0.1:") {
		t.Fatalf("Addr() = %q, want tls://127.0.0.1:port", l.Addr())
	}
	type dialed struct {
		c   transport.Conn
		err error
	}
	dialDone := make(chan dialed, 1)
	go func() {
		c, err := transport.Dial(ctx, l.Addr(), transport.Options{TLS: clientTLS})
		dialDone <- dialed{c, err}
	}()
	server, err := l.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	d := <-dialDone
	if d.err != nil {
		t.Fatalf("tls:// dial: %v", d.err)
	}
	defer d.c.Close()
	if !strings.HasPrefix(d.c.LocalAddr(), "tls://") || !strings.HasPrefix(server.RemoteAddr(), "tls://") {
		t.Fatalf("addresses %q, %q: want tls://", d.c.LocalAddr(), server.RemoteAddr())
	}
	if err := d.c.WriteMessages([]byte("secret")); err != nil {
		t.Fatal(err)
	}
	if m, err := server.ReadMessage(); err != nil || string(m) != "secret" {
		t.Fatalf("server read %q, %v", m, err)
	}
	// Without the test root (the system's roots) the certificate is refused.
	if c, err := transport.Dial(ctx, l.Addr(), transport.Options{}); err == nil {
		c.Close()
		t.Fatal("tls:// dial without the test root succeeded")
	}
	// A plain client gets no answer it can read as a frame.
	plain, err := transport.Dial(ctx, "tcp"+strings.TrimPrefix(l.Addr(), "tls"), transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	_ = plain.WriteMessages([]byte("hello"))
	if m, err := plain.ReadMessage(); err == nil {
		t.Fatalf("a plain client of a tls:// listener read %q", m)
	}
}

// BenchmarkTLSRoundTrip is [transporttest.BenchmarkRoundTrip] over tls:// (the server with the
// default limits, so its frame clock is on), with a 64 KiB message too, which spans several TLS
// records, and batches of 64 messages of 1 KiB read one by one.
func BenchmarkTLSRoundTrip(b *testing.B) {
	serverTLS, clientTLS := transporttest.TLSConfigs(b)
	for _, bc := range []struct {
		name  string
		size  int
		batch int
	}{{"32B", 32, 1}, {"4KiB", 4 << 10, 1}, {"64KiB", 64 << 10, 1}, {"64x1KiB", 1 << 10, 64}} {
		b.Run(bc.name, func(b *testing.B) {
			l := transporttest.Listen(b, "tls", transport.Options{TLS: serverTLS})
			client, server := transporttest.Connect(b, l, transport.Options{TLS: clientTLS})
			out := make([][]byte, bc.batch)
			for i := range out {
				out[i] = bytes.Repeat([]byte{byte(i)}, bc.size)
			}
			back := make([][]byte, bc.batch)
			b.ReportAllocs()
			b.SetBytes(int64(2 * bc.size * bc.batch))
			for b.Loop() {
				if err := client.WriteMessages(out...); err != nil {
					b.Fatal(err)
				}
				for i := range back {
					m, err := server.ReadMessage()
					if err != nil {
						b.Fatal(err)
					}
					back[i] = m
					if bc.batch > 1 {
						back[i] = out[i] // m is valid until the next read
					}
				}
				if err := server.WriteMessages(back...); err != nil {
					b.Fatal(err)
				}
				for range back {
					if _, err := client.ReadMessage(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// A query, which tcp:// and tls:// addresses do not read, is refused by Listen and Dial with an
// error that names the address and the keys but not the values (tcp://host:7070?tls=1 is
// not TLS; a misspelt option must not pass unnoticed).
func TestQueryIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := transporttest.Listen(t, "tcp", transport.Options{})
	check := func(op, addr string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s(%q) succeeded, want the query refused", op, addr)
			return
		}
		for _, want := range []string{"127.0.0.1", `"tls"`, `"token"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%q) = %q, want it to name %s", op, addr, err, want)
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s(%q) = %q shows the query's value", op, addr, err)
		}
	}
	addr := "tcp://127.0.0.1:0?tls=1&token=s3cret"
	nl, err := transport.Listen(ctx, addr, transport.Options{})
	if err == nil {
		_ = nl.Close()
	}
	check("Listen", addr, err)
	addr = l.Addr() + "?tls=1&token=s3cret"
	c, err := transport.Dial(ctx, addr, transport.Options{})
	if err == nil {
		_ = c.Close()
	}
	check("Dial", addr, err)
	if c, err := transport.Dial(ctx, l.Addr()+"?", transport.Options{}); err != nil { // an empty query holds no option
		t.Errorf("Dial(%q): %v", l.Addr()+"?", err)
	} else {
		_ = c.Close()
	}
}

// TestLinkLocalAddress: a listener on an IPv6 link-local address has an Addr that Dial takes,
// its zone escaped as in URLs (tcp://[fe80::1%25eth0]:7070), and so are the addresses of
// its connections.
func TestLinkLocalAddress(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := transport.Listen(ctx, "tcp://"+transporttest.LinkLocalHost(t)+":0", transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, server := transporttest.Connect(t, l, transport.Options{})
	for _, a := range []string{l.Addr(), client.LocalAddr(), client.RemoteAddr(), server.LocalAddr(), server.RemoteAddr()} {
		if u, err := url.Parse(a); err != nil || !strings.Contains(u.Host, "%") {
			t.Errorf("address %q: not a URL with the zone (%v)", a, err)
		}
	}
}
