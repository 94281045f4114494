package httpwrite_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/httpwrite"
)

// A response that cannot take a deadline (a recorder) is written in full,
// without one.
func TestTimedWithoutDeadlines(t *testing.T) {
	rec := httptest.NewRecorder()
	w := httpwrite.Timed(rec, time.Millisecond)
	big := bytes.Repeat([]byte("x"), 3*httpwrite.Part+1)
	if n, err := w.Write(big); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(big))
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if !rec.Flushed || rec.Body.Len() != len(big) {
		t.Fatalf("flushed %v, %d bytes; want flushed, %d", rec.Flushed, rec.Body.Len(), len(big))
	}
}

// The timeout bounds each part of a write, not the write: an answer far
// larger than what the connection buffers, taken by its client more
// slowly than the timeout allows for the whole, arrives in full.
func TestTimedLargeAnswerToSlowReader(t *testing.T) {
	const timeout = 300 * time.Millisecond
	const size = 8 << 20
	failed := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, err := httpwrite.Timed(w, timeout).Write(bytes.Repeat([]byte("x"), size))
		failed <- err
	}))
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	start := time.Now()
	got, buf := 0, make([]byte, 128<<10)
	for {
		time.Sleep(20 * time.Millisecond) // about 6 MB/s
		n, err := io.ReadFull(c, buf)
		got += n
		if err != nil {
			break
		}
	}
	if err := <-failed; err != nil || got < size {
		t.Fatalf("%d bytes in %v, the write: %v; want all %d (each part within %v)", got, time.Since(start), err, size, timeout)
	}
	t.Logf("%d bytes in %v", got, time.Since(start))
}

// TestFinishGivesTheLastWriteItsOwnTimeout: a handler that writes its
// header, then works longer than the timeout before it returns, still has
// its answer delivered: net/http writes the buffered answer after the
// handler returns, under the deadline Finish sets then. Without Finish,
// that write meets the deadline of the header's write: the client reads EOF.
func TestFinishGivesTheLastWriteItsOwnTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = httpwrite.Timed(w, 200*time.Millisecond)
		defer httpwrite.Finish(w)
		w.Header().Set("X-Slow", "1")
		w.WriteHeader(http.StatusOK)
		time.Sleep(400 * time.Millisecond) // and returns: the answer is its header
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatalf("an answer computed after its header: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Slow") != "1" {
		t.Fatalf("answer %d %v; want 200 with X-Slow", resp.StatusCode, resp.Header)
	}
}

// Started tells whether the answer written through Timed has begun.
func TestStarted(t *testing.T) {
	for _, begin := range []func(http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) },
		func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) },
	} {
		w := httpwrite.Timed(httptest.NewRecorder(), time.Second)
		if httpwrite.Started(w) {
			t.Fatal("Started before anything was written")
		}
		begin(w)
		if !httpwrite.Started(w) {
			t.Fatal("not Started after the answer began")
		}
	}
	if !httpwrite.Started(httptest.NewRecorder()) {
		t.Fatal("a writer Timed did not make: not Started, want true (unknown)")
	}
}
