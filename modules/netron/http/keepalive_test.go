package http_test

import (
	"bufio"
	"context"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// Quiet yields 0..n-1, each once the test lets it (next), so that the
// test decides how long the stream stays silent.
type Quiet struct{ next chan struct{} }

func (q *Quiet) Run(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			select {
			case <-q.next:
			case <-ctx.Done():
				return
			}
			if !yield(i, nil) {
				return
			}
		}
	}
}

// Fail fails with unavailable once the test lets it.
func (q *Quiet) Fail(ctx context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		select {
		case <-q.next:
			yield(0, netron.Errorf(netron.CodeUnavailable, "backend gone"))
		case <-ctx.Done():
		}
	}
}

// TestStreamKeepAlive: an SSE answer sends a comment line after each
// silence of the keep-alive period, before the first item (the client
// then has its status) and between items, so that proxies with an idle
// timeout leave it open; the items are as without it. The answer used to
// begin with the first item and send nothing in a silence.
func TestStreamKeepAlive(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := httptransport.NewHandler(n, httptransport.WithStreamKeepAlive(0)); err == nil ||
		!strings.Contains(err.Error(), "WithStreamKeepAlive(0s): the period must be positive") {
		t.Fatalf("WithStreamKeepAlive(0): %v, want an error naming it", err)
	}
	q := &Quiet{next: make(chan struct{})}
	if err := n.Register("quiet", "1.0.0", q, netron.WithHTTP("/api/quiet")); err != nil {
		t.Fatal(err)
	}
	// Set as a titan app sets it, from http.streamKeepAlive.
	opts, err := httptransport.Config{StreamKeepAlive: 20 * time.Millisecond}.Options()
	if err != nil {
		t.Fatal(err)
	}
	addr := listenGateway(t, n, opts...).Addr()
	c := client(t)
	// open posts the call and waits for the answer's status, which must
	// come while the method has produced nothing.
	open := func(t *testing.T, method, body string) *http.Response {
		t.Helper()
		const accept = "text/event-stream"
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr+"/api/quiet/"+method, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		got := make(chan *http.Response, 1)
		failed := make(chan error, 1)
		go func() {
			res, err := c.Do(req)
			if err != nil {
				failed <- err
				return
			}
			got <- res
		}()
		select {
		case res := <-got:
			t.Cleanup(func() { res.Body.Close() })
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), accept) {
				t.Fatalf("answer %d %s, want 200 %s", res.StatusCode, res.Header.Get("Content-Type"), accept)
			}
			return res
		case err := <-failed:
			t.Fatal(err)
		case <-time.After(2 * time.Second):
			// The request ends, and with it the method.
			cancel()
			select {
			case res := <-got:
				res.Body.Close()
			case <-failed:
			}
			t.Fatal("no status within 2s of a silent stream, whose keep-alive period is 20ms")
		}
		return nil
	}

	t.Run("SSE", func(t *testing.T) {
		res := open(t, "run", "[2]")
		rd := bufio.NewReader(res.Body)
		// next returns the next line that is not empty.
		next := func() string {
			t.Helper()
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					t.Fatalf("read: %q %v", line, err)
				}
				if line = strings.TrimSuffix(line, "\n"); line != "" {
					return line
				}
			}
		}
		for i, want := range []string{"data: 0", "data: 1"} {
			if line := next(); line != ": keep-alive" {
				t.Fatalf("before item %d: %q, want the keep-alive comment", i, line)
			}
			q.next <- struct{}{}
			for line := next(); line != want; line = next() {
				if line != ": keep-alive" {
					t.Fatalf("item %d: %q, want %q", i, line, want)
				}
			}
		}
		rest, err := io.ReadAll(rd)
		if err != nil || strings.TrimPrefix(string(rest), "\n") != "event: end\ndata: {\"count\":2}\n\n" {
			t.Fatalf("the end: %q %v", rest, err)
		}
	})

	// A failure after the keep-alive began the answer is the stream's
	// error event: its status is sent.
	t.Run("failure", func(t *testing.T) {
		res := open(t, "fail", "")
		q.next <- struct{}{}
		body, err := io.ReadAll(res.Body)
		if err != nil || !strings.HasPrefix(string(body), ": keep-alive\n\n") ||
			!strings.Contains(string(body), "event: error\ndata: {") || !strings.Contains(string(body), `"message":"backend gone"`) {
			t.Fatalf("body %q %v, want the keep-alive, then the error event", body, err)
		}
	})
}
