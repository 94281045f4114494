package transporttest

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// timeout bounds every wait of the helpers and the suites; reaching it fails the test. It is
// generous because the suites run with -race on small, busy machines.
const timeout = 30 * time.Second

// Address returns a fresh address to listen on for scheme: unix:///<new temp dir>/s.sock (the
// directory is short, to stay under the socket path limit, and removed at cleanup), mem://
// (an automatic name), or scheme://127.0.0.1:0 for any other scheme.
func Address(t testing.TB, scheme string) string {
	t.Helper()
	switch scheme {
	case "unix":
		dir, err := os.MkdirTemp("", "titan")
		if err != nil {
			t.Fatalf("transporttest: temp dir for a unix socket: %v", err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		return "unix://" + filepath.ToSlash(filepath.Join(dir, "s.sock"))
	case "mem":
		return "mem://"
	default:
		return scheme + "://127.0.0.1:0"
	}
}

// CloseTimeout is the [transport.Options.CloseTimeout] the helpers of this package give
// listeners and dials that set none: the tests close connections whose peer is not reading,
// and wait for no closing handshake longer than this.
const CloseTimeout = 100 * time.Millisecond

// quick gives o the tests' CloseTimeout when it has none.
func quick(o transport.Options) transport.Options {
	if o.CloseTimeout == 0 {
		o.CloseTimeout = CloseTimeout
	}
	return o
}

// Listen starts a listener for scheme on [Address] with options o and closes it at cleanup.
func Listen(t testing.TB, scheme string, o transport.Options) transport.Listener {
	t.Helper()
	o = quick(o)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l, err := transport.Listen(ctx, Address(t, scheme), o)
	if err != nil {
		t.Fatalf("transporttest: listen %s: %v", scheme, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// Dial dials addr with options o and closes the connection at cleanup.
func Dial(t testing.TB, addr string, o transport.Options) transport.Conn {
	t.Helper()
	o = quick(o)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := transport.Dial(ctx, addr, o)
	if err != nil {
		t.Fatalf("transporttest: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Pair starts a listener for scheme with options o and returns a dialed connection and its
// accepted peer; all three are closed at cleanup.
func Pair(t testing.TB, scheme string, o transport.Options) (client, server transport.Conn) {
	t.Helper()
	return Connect(t, Listen(t, scheme, o), o)
}

// Connect dials l with options o and accepts the connection; both ends are closed at cleanup.
// It suits transports whose Dial completes without the server reading (not TLS).
func Connect(t testing.TB, l transport.Listener, o transport.Options) (client, server transport.Conn) {
	t.Helper()
	o = quick(o)
	return acceptDuring(t, l, func(ctx context.Context) (transport.Conn, error) { return transport.Dial(ctx, l.Addr(), o) })
}

// acceptDuring accepts on l while dial runs (a dial may wait for the server, as a TLS
// handshake does) and returns both ends, closed at cleanup; it fails the test, closing what
// it got, when either fails.
func acceptDuring[C io.Closer](t testing.TB, l transport.Listener, dial func(context.Context) (C, error)) (C, transport.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	type result struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	client, err := dial(ctx)
	if err != nil {
		cancel()
		if r := <-accepted; r.c != nil {
			_ = r.c.Close()
		}
		t.Fatalf("transporttest: dial %s: %v", l.Addr(), err)
	}
	r := <-accepted
	if r.err != nil {
		_ = client.Close()
		t.Fatalf("transporttest: accept on %s: %v", l.Addr(), r.err)
	}
	t.Cleanup(func() {
		// Both ends at once: a closing handshake (WebSocket's) then ends
		// on the peer's own close instead of waiting out the close
		// timeout for a peer that does not read.
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			_ = client.Close()
		}()
		_ = r.c.Close()
		<-closed
	})
	return client, r.c
}

// await returns the value from ch, failing the test when none comes within the timeout.
func await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
		var zero T
		return zero
	}
}

// goWrite writes msgs on c from a new goroutine and reports the error.
func goWrite(c transport.Conn, msgs ...[]byte) <-chan error {
	done := make(chan error, 1)
	go func() { done <- c.WriteMessages(msgs...) }()
	return done
}

// goRead reads one message on c from a new goroutine and reports a copy of it.
func goRead(c transport.Conn) <-chan readResult {
	done := make(chan readResult, 1)
	go func() {
		m, err := c.ReadMessage()
		done <- readResult{append([]byte(nil), m...), err}
	}()
	return done
}

type readResult struct {
	msg []byte
	err error
}

// pattern returns n bytes that differ with seed, so swapped or shifted messages are caught.
// The first 251 bytes (a prime period) are computed and then copied, which keeps large
// messages cheap under the race detector.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range min(n, 251) {
		b[i] = byte(i*7) ^ seed
	}
	for done := min(n, 251); done < n; done *= 2 {
		copy(b[done:], b[:done])
	}
	return b
}

// SilentAddr returns the tcp:// address of a listener that accepts
// connections and never answers, closed with the test: a dial or
// handshake there lasts until its context ends.
func SilentAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// LinkLocalHost returns an IPv6 link-local address of this machine with its zone, as the host
// of a URL with the zone escaped ("[fe80::1%25eth0]"); it skips the test when the machine has
// none.
func LinkLocalHost(tb testing.TB) string {
	tb.Helper()
	ifaces, err := net.Interfaces()
	if err != nil {
		tb.Fatalf("transporttest: network interfaces: %v", err)
	}
	for _, ifi := range ifaces {
		if ifi.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() == nil && ipn.IP.IsLinkLocalUnicast() {
				return "[" + ipn.IP.String() + "%25" + url.PathEscape(ifi.Name) + "]"
			}
		}
	}
	tb.Skip("transporttest: no IPv6 link-local address on this machine")
	return ""
}
