package http_test

import (
	"bufio"
	"context"
	"io"
	"iter"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// Firehose answers as much as a client will take.
type Firehose struct {
	ended chan struct{} // closed when Numbers returns
}

// Numbers yields 0, 1, 2, ... until the call ends, each after pause.
func (f *Firehose) Numbers(ctx context.Context, pauseMS, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		defer close(f.ended)
		for i := 0; n <= 0 || i < n; i++ {
			if pauseMS > 0 {
				select {
				case <-time.After(time.Duration(pauseMS) * time.Millisecond):
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

// Blob returns a string of n bytes.
func (f *Firehose) Blob(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil }

func (f *Firehose) Add(_ context.Context, a, b int) (int, error) { return a + b, nil }

// listenFirehose serves a Firehose with a write timeout of d.
func listenFirehose(t *testing.T, d time.Duration) (*httptransport.Gateway, *Firehose) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &Firehose{ended: make(chan struct{})}
	if err := n.Register("firehose", "1.0.0", f); err != nil {
		t.Fatal(err)
	}
	g, err := httptransport.Listen(context.Background(), n, "http://127.0.0.1:0", httptransport.WithWriteTimeout(d))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
		_ = n.Stop(ctx)
	})
	return g, f
}

// dialStalled connects to the gateway with a small receive buffer, sends
// request, reads the status line of the answer and then reads no more.
func dialStalled(t *testing.T, g *httptransport.Gateway, request string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.Addr(), "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReaderSize(c, 16).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("status line %q: %v", line, err)
	}
}

// TestWriteTimeoutCutsStalledReaders: a client that asks for a large answer
// (a stream as SSE or NDJSON, a large unary result) and stops reading is
// cut once a write of its answer has waited for the write timeout: its
// request ends and the stream's producer is released, while other clients
// are served meanwhile.
func TestWriteTimeoutCutsStalledReaders(t *testing.T) {
	const timeout = 300 * time.Millisecond
	request := func(path, accept, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: " + accept +
			"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	for _, tc := range []struct {
		name, request string
		stream        bool
	}{
		{"sse", request("/rpc/firehose/numbers", "text/event-stream", "[0,0]"), true},
		{"ndjson", request("/rpc/firehose/numbers", "application/x-ndjson", "[0,0]"), true},
		{"unary", request("/rpc/firehose/blob", "application/json", "[16777216]"), false},
		{"invoke", request("/netron/invoke", "application/json", `{"id":"1","service":"firehose","method":"blob","input":[16777216]}`), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, f := listenFirehose(t, timeout)
			dialStalled(t, g, tc.request)
			if r := do(t, client(t), http.MethodPost, g.Addr()+"/rpc/firehose/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
				t.Errorf("another client while one stalls: %d %s", r.status, r.body)
			}
			if tc.stream {
				select {
				case <-f.ended:
				case <-time.After(timeout + 3*time.Second):
					t.Fatalf("the stream's producer still runs %v after its client stopped reading (write timeout %v)", timeout+3*time.Second, timeout)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout+3*time.Second)
			defer cancel()
			if err := g.Handler().Shutdown(ctx); err != nil {
				t.Fatalf("the stalled client's request still runs %v after it stopped reading (write timeout %v): %v", timeout+3*time.Second, timeout, err)
			}
		})
	}
}

// TestWriteTimeoutSparesSlowStreams: the write timeout bounds each write,
// not a stream: one whose items come further apart than the timeout, read
// by its client, runs to its end.
func TestWriteTimeoutSparesSlowStreams(t *testing.T) {
	g, _ := listenFirehose(t, 100*time.Millisecond)
	r := do(t, client(t), http.MethodPost, g.Addr()+"/rpc/firehose/numbers", "[250,4]", "Accept", "text/event-stream")
	if r.status != 200 || !strings.HasSuffix(string(r.body), "event: end\ndata: {\"count\":4}\n\n") {
		t.Fatalf("%d %q; want the 4 items and the end", r.status, r.body)
	}
}
