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

	"github.com/coder/websocket"

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
	g := listenGateway(t, n, httptransport.WithWriteTimeout(d))
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
	t.Parallel()
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
			// The answer first fills the socket buffers (megabytes of
			// small items: seconds under the race detector on a loaded
			// machine), then a write waits for the timeout. Without the
			// cut, the producer never ends.
			const grace = 10 * time.Second
			if tc.stream {
				select {
				case <-f.ended:
				case <-time.After(timeout + grace):
					t.Fatalf("the stream's producer still runs %v after its client stopped reading (write timeout %v)", timeout+grace, timeout)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout+grace)
			defer cancel()
			if err := g.Handler().Shutdown(ctx); err != nil {
				t.Fatalf("the stalled client's request still runs %v after it stopped reading (write timeout %v): %v", timeout+grace, timeout, err)
			}
		})
	}
}

// TestWriteTimeoutSparesSlowStreams: the write timeout bounds each write,
// not a stream: one whose items come further apart than the timeout, read
// by its client, runs to its end.
func TestWriteTimeoutSparesSlowStreams(t *testing.T) {
	t.Parallel()
	g, _ := listenFirehose(t, 100*time.Millisecond)
	r := do(t, client(t), http.MethodPost, g.Addr()+"/rpc/firehose/numbers", "[250,4]", "Accept", "text/event-stream")
	if r.status != 200 || !strings.HasSuffix(string(r.body), "event: end\ndata: {\"count\":4}\n\n") {
		t.Fatalf("%d %q; want the 4 items and the end", r.status, r.body)
	}
}

// listenMount serves m under /_titan/ with a write timeout of d.
func listenMount(t *testing.T, d time.Duration, m http.Handler) *httptransport.Gateway {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, httptransport.WithMounts(httptransport.Mount{Path: "/_titan/", Handler: m}))
	if err != nil {
		t.Fatal(err)
	}
	g := listenGateway(t, n, httptransport.WithWriteTimeout(d))
	return g
}

// TestWriteTimeoutCutsStalledReadersOfMounts: a mount's answers have the
// gateway's write timeout too: a client that stops reading a large answer
// of a mount (metrics, the development UI) is cut, and the mount's
// handler returns, as it would for the gateway's own routes.
func TestWriteTimeoutCutsStalledReadersOfMounts(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	ended := make(chan error, 1)
	g := listenMount(t, timeout, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		part := []byte(strings.Repeat("x", 64<<10))
		for range 256 { // 16 MiB, far more than the socket buffers hold
			if _, err := w.Write(part); err != nil {
				ended <- err
				return
			}
		}
		ended <- nil
	}))
	dialStalled(t, g, "GET /_titan/big HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("the mount wrote its whole answer to a client that reads nothing")
		}
	case <-time.After(timeout + 3*time.Second):
		t.Fatalf("the mount's handler still writes %v after its client stopped reading (write timeout %v)", timeout+3*time.Second, timeout)
	}
}

// TestWriteTimeoutSparesMountStreamsAndUpgrades: under the write timeout,
// a mount's stream whose items come further apart than it runs to its end,
// and a connection a mount takes over (a WebSocket: the development UI's
// event feed) keeps no write deadline from its upgrade.
func TestWriteTimeoutSparesMountStreamsAndUpgrades(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	g := listenMount(t, timeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_titan/feed" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			time.Sleep(3 * timeout)
			_ = c.Write(ctx, websocket.MessageText, []byte("late"))
			_, _, _ = c.Read(ctx) // until the client closes
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			time.Sleep(2 * timeout)
			if _, err := io.WriteString(w, "data: "+strconv.Itoa(i)+"\n\n"); err != nil {
				return
			}
			_ = http.NewResponseController(w).Flush()
		}
	}))
	r := do(t, client(t), http.MethodGet, g.Addr()+"/_titan/stream", "")
	if r.status != 200 || string(r.body) != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
		t.Errorf("a slow stream of a mount: %d %q; want its 3 items", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(g.Addr(), "http")+"/_titan/feed", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, b, err := c.Read(ctx); err != nil || string(b) != "late" {
		t.Errorf("a WebSocket message sent %v after the upgrade (write timeout %v): %q, %v", 3*timeout, timeout, b, err)
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
}
