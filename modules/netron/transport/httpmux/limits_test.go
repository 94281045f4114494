package httpmux_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
)

func acquireWith(t *testing.T, o transport.Options) *httpmux.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := httpmux.Acquire(ctx, "127.0.0.1:0", o)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { _ = s.Release(context.Background()) })
	return s
}

func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(timeout))
	return c
}

// ended reports whether the server ended c (end of stream or reset) before a deadline.
func ended(c net.Conn, within time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(within))
	_, err := io.ReadAll(c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// bodyReader answers 200 with the length of the body it read, or 408 with the error when the
// body did not come in time.
func bodyReader(errs chan<- error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			errs <- err
			if errors.Is(err, transport.ErrFrameTimeout) {
				http.Error(w, err.Error(), http.StatusRequestTimeout)
				return
			}
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		errs <- nil
		fmt.Fprint(w, len(b))
	})
}

var bodyOpts = transport.Options{
	FrameTimeout: 300 * time.Millisecond,
	FrameMinRate: transport.Rate{Bytes: 8 << 10, Per: 500 * time.Millisecond},
}

// TestSlowBodyIsCut: a body trickled a byte at a time is cut after the frame timeout; the
// handler's read fails with ErrFrameTimeout and the connection is closed after its answer.
func TestSlowBodyIsCut(t *testing.T) {
	s := acquireWith(t, bodyOpts)
	errs := make(chan error, 1)
	if _, err := s.Handle("POST /upload", bodyReader(errs)); err != nil {
		t.Fatal(err)
	}
	c := rawConn(t, s.Addr())
	if _, err := io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range 1000 {
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle's pace
		}
	}()
	select {
	case err := <-errs:
		if !errors.Is(err, transport.ErrFrameTimeout) {
			t.Fatalf("handler read %v, want ErrFrameTimeout", err)
		}
		t.Logf("handler: %v", err)
	case <-time.After(timeout):
		t.Fatal("a body trickled at 50 B/s was not cut")
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", resp.StatusCode)
	}
	if !ended(c, timeout) {
		t.Fatal("the connection of the cut body stayed open")
	}
}

// TestSteadySlowBodyIsRead: a 64 KiB body sent in 4 KiB pieces every 40 ms takes twice the
// frame timeout, at six times the minimum rate, and is read whole.
func TestSteadySlowBodyIsRead(t *testing.T) {
	s := acquireWith(t, bodyOpts)
	errs := make(chan error, 1)
	if _, err := s.Handle("POST /upload", bodyReader(errs)); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		chunk := strings.Repeat("y", 4<<10)
		for range 16 {
			if _, err := io.WriteString(pw, chunk); err != nil {
				return
			}
			time.Sleep(40 * time.Millisecond) // the pace under test
		}
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/upload", pr)
	req.ContentLength = 64 << 10
	resp, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := <-errs; err != nil || resp.StatusCode != 200 || string(b) != "65536" {
		t.Fatalf("answer %d %q, handler error %v; want 200 65536", resp.StatusCode, b, err)
	}
}

// TestConnCaps: connections over MaxConns, or over MaxConnsPerIP from one address, are closed
// at once, while those admitted are served; closing one makes room.
func TestConnCaps(t *testing.T) {
	t.Run("MaxConns", func(t *testing.T) {
		s := acquireWith(t, transport.Options{MaxConns: 2})
		if _, err := s.Handle("/", text("ok")); err != nil {
			t.Fatal(err)
		}
		a, b := rawConn(t, s.Addr()), rawConn(t, s.Addr())
		if over := rawConn(t, s.Addr()); !ended(over, timeout) {
			t.Fatal("a third connection was not closed with MaxConns 2")
		}
		for _, c := range []net.Conn{a, b} {
			if got := roundTrip(t, c); got != "ok" {
				t.Fatalf("an admitted connection got %q", got)
			}
		}
		_ = a.Close()
		waitServed(t, s.Addr())
	})
	t.Run("MaxConnsPerIP", func(t *testing.T) {
		s := acquireWith(t, transport.Options{MaxConnsPerIP: 1})
		if _, err := s.Handle("/", text("ok")); err != nil {
			t.Fatal(err)
		}
		a := rawConn(t, s.Addr())
		if over := rawConn(t, s.Addr()); !ended(over, timeout) {
			t.Fatal("a second connection from 127.0.0.1 was not closed with MaxConnsPerIP 1")
		}
		if got := roundTrip(t, a); got != "ok" {
			t.Fatalf("the admitted connection got %q", got)
		}
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: timeout}
		other, err := d.Dial("tcp", s.Addr())
		if err != nil {
			t.Skipf("cannot dial from 127.0.0.2 here: %v", err)
		}
		defer other.Close()
		_ = other.SetDeadline(time.Now().Add(timeout))
		if got := roundTrip(t, other); got != "ok" {
			t.Fatalf("a connection from 127.0.0.2 got %q", got)
		}
	})
	t.Run("HijackedLeaveTheCount", func(t *testing.T) {
		s := acquireWith(t, transport.Options{MaxConns: 1})
		var mu sync.Mutex
		var kept []net.Conn
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range kept {
				_ = c.Close()
			}
		})
		if _, err := s.Handle("/hijack", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				mu.Lock()
				kept = append(kept, c)
				mu.Unlock()
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
		})); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Handle("/", text("ok")); err != nil {
			t.Fatal(err)
		}
		requestHijack(t, s.Addr())
		waitServed(t, s.Addr())
	})
	t.Run("TakenCountStaysUntilReleased", func(t *testing.T) {
		s := acquireWith(t, transport.Options{MaxConns: 1})
		counts := make(chan *httpmux.Count, 1)
		var hijacked net.Conn
		t.Cleanup(func() {
			if hijacked != nil {
				_ = hijacked.Close()
			}
		})
		if _, err := s.Handle("/hijack", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := s.TakeCount(r)
			c, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				k.Release()
				return
			}
			hijacked = c
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			counts <- k
		})); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Handle("/", text("ok")); err != nil {
			t.Fatal(err)
		}
		requestHijack(t, s.Addr())
		k := <-counts
		if k == nil {
			t.Fatal("TakeCount returned nil on a server with MaxConns 1")
		}
		if over := rawConn(t, s.Addr()); !ended(over, timeout) {
			t.Fatal("a second connection was not closed while the hijacked one keeps its count (MaxConns 1)")
		}
		k.Release()
		k.Release() // a second Release does nothing: the count is not released twice
		// The count of one connection is back, no more: a held connection fills the cap again.
		admitted(t, s.Addr())
		if over := rawConn(t, s.Addr()); !ended(over, timeout) {
			t.Fatal("a second connection was not closed after a double Release (MaxConns 1)")
		}
	})
	t.Run("UntakenCountGoesBack", func(t *testing.T) {
		s := acquireWith(t, transport.Options{MaxConns: 1})
		if _, err := s.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.TakeCount(r).Release() // no hijack after all
			_, _ = io.WriteString(w, "ok")
		})); err != nil {
			t.Fatal(err)
		}
		a := rawConn(t, s.Addr())
		for range 2 {
			if got := roundTrip(t, a); got != "ok" {
				t.Fatalf("the admitted connection got %q", got)
			}
		}
		if over := rawConn(t, s.Addr()); !ended(over, timeout) {
			t.Fatal("a second connection was not closed: the count given back was lost (MaxConns 1)")
		}
		_ = a.Close()
		waitServed(t, s.Addr())
	})
}

// requestHijack sends GET /hijack on a new connection to addr and checks
// that the handler answered 200 on the hijacked connection.
func requestHijack(t *testing.T, addr string) {
	t.Helper()
	h := rawConn(t, addr)
	if _, err := io.WriteString(h, "GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(h), nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("hijack: %v", err)
	}
}

// admitted returns a connection to addr that the server serves, retrying while the server
// has not yet counted out a closed one.
func admitted(t *testing.T, addr string) net.Conn {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		c := rawConn(t, addr)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err == nil {
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 2))
				if resp.StatusCode == 200 && string(b) == "ok" {
					return c
				}
			}
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("no new connection served")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// roundTrip sends GET / on c and returns the body.
func roundTrip(t *testing.T, c net.Conn) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitServed waits until a new connection to addr is served (the server counts a closed
// connection out when it notices the close).
func waitServed(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		resp, err := plain.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new connection served: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHeaderLimits: a header over MaxHeaderBytes is answered 431; one that trickles is cut
// after HandshakeTimeout; a keep-alive connection idle for HTTPIdleTimeout is closed.
func TestHeaderLimits(t *testing.T) {
	s := acquireWith(t, transport.Options{MaxHeaderBytes: 1 << 10, HandshakeTimeout: 300 * time.Millisecond, HTTPIdleTimeout: 300 * time.Millisecond})
	if _, err := s.Handle("/", text("ok")); err != nil {
		t.Fatal(err)
	}
	big := rawConn(t, s.Addr())
	if _, err := io.WriteString(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", 8<<10)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(big), nil); err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("an 8 KiB header with MaxHeaderBytes 1024: %v %v, want 431", resp, err)
	}

	slow := rawConn(t, s.Addr())
	go func() {
		for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 100)) {
			if _, err := slow.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle's pace
		}
	}()
	if !ended(slow, timeout) {
		t.Fatal("a header trickled at 50 B/s was not cut")
	}

	idle := rawConn(t, s.Addr())
	if got := roundTrip(t, idle); got != "ok" {
		t.Fatalf("got %q", got)
	}
	if !ended(idle, timeout) {
		t.Fatal("an idle keep-alive connection was not closed")
	}
}

// TestLimitsMustMatch: users of one address share its server only with the same limits.
func TestLimitsMustMatch(t *testing.T) {
	s := acquireWith(t, transport.Options{MaxConns: 5})
	ctx := context.Background()
	if h, err := httpmux.Acquire(ctx, s.Addr(), transport.Options{MaxConns: 6}); err == nil {
		_ = h.Release(ctx)
		t.Fatal("Acquire with other limits shared the server")
	} else if !strings.Contains(err.Error(), "other limits") {
		t.Fatalf("error %q does not say the limits differ", err)
	}
	h, err := httpmux.Acquire(ctx, s.Addr(), transport.Options{MaxConns: 5})
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Release(ctx)
}

// Release does not wait for connections that have sent no request:
// http.Server.Shutdown alone waits 5 s for each (HTTP clients open spare
// connections), and a graceful stop would take that long.
func TestReleaseClosesSilentConnections(t *testing.T) {
	s := acquireWith(t, transport.Options{})
	if _, err := s.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})); err != nil {
		t.Fatal(err)
	}
	var silent []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	time.Sleep(50 * time.Millisecond) // accepted: StateNew
	start := time.Now()
	if err := s.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Release took %v with silent connections open", took)
	}
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("a silent connection was left open")
		}
	}
}

// TestHeaderCapIsExact: MaxHeaderBytes caps the header itself, request line included. net/http
// reads 4 KiB past its MaxHeaderBytes before answering 431, so without a check of its own a
// 1 KiB cap still served a 4 KiB header.
func TestHeaderCapIsExact(t *testing.T) {
	s := acquireWith(t, transport.Options{MaxHeaderBytes: 1 << 10})
	if _, err := s.Handle("/", text("ok")); err != nil {
		t.Fatal(err)
	}
	// header returns a request header of n bytes.
	header := func(n int) string {
		prefix, end := "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ", "\r\n\r\n"
		return prefix + strings.Repeat("p", n-len(prefix)-len(end)) + end
	}
	for _, c := range []struct{ size, want int }{
		{1 << 10, http.StatusOK},
		{1<<10 + 1, http.StatusRequestHeaderFieldsTooLarge},
		{4 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		conn := rawConn(t, s.Addr())
		if _, err := io.WriteString(conn, header(c.size)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("a %d-byte header: %v", c.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("a %d-byte header with MaxHeaderBytes 1024: status %d, want %d", c.size, resp.StatusCode, c.want)
		}
	}
}
