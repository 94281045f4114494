package httpserve

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	for addr, ok := range map[string]bool{":9090": true, "127.0.0.1:9090": true, "[::1]:1": true,
		"9090": false, "127.0.0.1": false, "http://127.0.0.1:9090": false, "": false,
		":0": true, ":65535": true, ":99999": false, ":65536": false, "127.0.0.1:-1": false, "127.0.0.1:nosuchport": false,
		"127.0.0.1:": false, ":": false} {
		if err := CheckAddr(addr); (err == nil) != ok {
			t.Errorf("CheckAddr(%q) = %v", addr, err)
		}
	}
}

func TestStartServeStop(t *testing.T) {
	s, err := Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}), slog.New(slog.DiscardHandler), "the test server")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr %s: the port is not resolved", s.Addr())
	}
	resp, err := testClient.Get("http://" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("served %q", b)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err after Stop = %v, want nil", err)
	}
	again, err := Start(s.Addr(), http.NotFoundHandler(), slog.New(slog.DiscardHandler), "x")
	if err != nil {
		t.Fatalf("the address is not free after Stop: %v", err)
	}
	again.Stop(context.Background())
}

// A request's body must arrive within the bound, whether the handler
// reads it or leaves it; once it has, the handler answers for as long as
// it likes.
func TestBodyTimeout(t *testing.T) {
	const bound = 200 * time.Millisecond
	srv := httptest.NewServer(timeBodies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/unread" {
			io.WriteString(w, "not read")
			return
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusRequestTimeout)
			fmt.Fprintf(w, "%v", errors.Is(err, os.ErrDeadlineExceeded))
			return
		}
		time.Sleep(3 * bound) // past the bound: the answer is not cut
		fmt.Fprintf(w, "%s %v", b, r.Context().Err())
	}), bound))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	for _, tt := range []struct{ path, want string }{
		{"/read", "HTTP/1.1 408"},
		{"/unread", "HTTP/1.1 200"},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\nthe rest never comes", tt.path, addr)
			c.SetReadDeadline(time.Now().Add(20 * bound))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, tt.want) {
				t.Fatalf("answer %q, %v; want %s within %v", line, err, tt.want, 20*bound)
			}
		})
	}

	res, err := testClient.Post(srv.URL+"/read", "text/plain", strings.NewReader("all of it"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "all of it <nil>" {
		t.Errorf("a body that came in time, answered after the bound: %d %q; want the body and no context error", res.StatusCode, b)
	}
}

// The servers bound the header, the body and idle connections, not the
// time the handler answers.
func TestServerBounds(t *testing.T) {
	s, err := Start("127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.DiscardHandler), "the test server")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	if s.srv.ReadHeaderTimeout != HeaderTimeout || s.srv.IdleTimeout != IdleTimeout || s.srv.ReadTimeout != 0 || s.srv.WriteTimeout != 0 {
		t.Errorf("ReadHeaderTimeout %v, IdleTimeout %v, ReadTimeout %v, WriteTimeout %v; want %v, %v, none, none",
			s.srv.ReadHeaderTimeout, s.srv.IdleTimeout, s.srv.ReadTimeout, s.srv.WriteTimeout, HeaderTimeout, IdleTimeout)
	}
}

// Each write of an answer must be taken within the bound: a handler
// writing to a client that stopped reading is released soon after, while
// one whose writes come further apart than the bound, to a client that
// reads, answers in full.
func TestWriteTimeout(t *testing.T) {
	const bound = 200 * time.Millisecond
	released := make(chan error, 1)
	srv := httptest.NewServer(timeWrites(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			for range 3 {
				time.Sleep(2 * bound)
				io.WriteString(w, "tick ")
				http.NewResponseController(w).Flush()
			}
			return
		}
		line := []byte(strings.Repeat("x", 1023) + "\n")
		for {
			if _, err := w.Write(line); err != nil {
				released <- r.Context().Err()
				return
			}
		}
	}), bound))
	t.Cleanup(srv.Close)

	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	io.WriteString(c, "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case err := <-released:
		if err == nil {
			t.Error("the request's context still runs after the cut write")
		}
	case <-time.After(bound + 5*time.Second):
		t.Fatalf("the handler still writes %v after its client stopped reading (bound %v)", bound+5*time.Second, bound)
	}

	res, err := testClient.Get(srv.URL + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "tick tick tick " {
		t.Errorf("writes %v apart with a bound of %v: %q, want the three", 2*bound, bound, b)
	}
}

// TestStopCutsWhatOutlivesIt: a request still in flight when Stop's
// context ends is cut, its connection closed and its context cancelled,
// rather than left running after the server has stopped.
func TestStopCutsWhatOutlivesIt(t *testing.T) {
	started, ended := make(chan struct{}), make(chan struct{})
	s, err := Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(ended)
	}), slog.New(slog.DiscardHandler), "the test server")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the handler")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop with a request in flight past its context: %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the request in flight still runs 10s after Stop returned")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("the connection of the request in flight: %v, want it closed", err)
	}
}
