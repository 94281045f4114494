package http_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// listenBodyMemory serves the calculator over HTTP with the connection
// limits of cfg and the gateway options opts.
func listenBodyMemory(t *testing.T, cfg netron.Config, calc *Calculator, opts ...httptransport.Option) *httptransport.Gateway {
	t.Helper()
	n, err := netron.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", calc, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	g := listenGateway(t, n, opts...)
	return g
}

// rawAnswer is an answer read from a raw connection.
type rawAnswer struct {
	i      int // the request's index, for a flood
	status int
	code   string // X-Titan-Code
	header http.Header
	body   string
	closed bool // the answer said Connection: close
	err    error
}

func readRawAnswer(i int, c net.Conn) rawAnswer {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return rawAnswer{i: i, err: err}
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return rawAnswer{i: i, status: resp.StatusCode, code: resp.Header.Get("X-Titan-Code"), header: resp.Header, body: string(b), closed: resp.Close, err: err}
}

// requestHead is the head of a POST announcing a body of size bytes
// (chunked when size is negative).
func requestHead(path string, size int) string {
	length := "Content-Length: " + strconv.Itoa(size)
	if size < 0 {
		length = "Transfer-Encoding: chunked"
	}
	return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + length + "\r\n\r\n"
}

// addBody is a JSON route body of calculator.add of size bytes: [1,2]
// padded with spaces.
func addBody(size int) string { return "[1," + strings.Repeat(" ", size-5) + "2]" }

// waitHeld waits until the gateway holds want bytes of request bodies.
func waitHeld(t *testing.T, h *httptransport.Handler, want int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.BodyBytesHeld() != want {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway holds %d bytes of request bodies; want %d", h.BodyBytesHeld(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBodyMemoryFlood: many clients sending large bodies slowly hold at
// most http.maxBodyMemory bytes at once: the gateway takes as many as fit,
// refuses the others at once with 503 unavailable naming the limit and
// closes their connections, without reading their bodies; a body of unknown
// length is refused when it outgrows what is left. Small requests are served
// during the flood, the admitted bodies complete, and once all are answered
// or gone the gateway holds nothing.
func TestBodyMemoryFlood(t *testing.T) {
	t.Parallel()
	const (
		budget   = 1 << 20
		size     = 200 << 10
		fit      = budget / size // 5
		flooders = 16
	)
	g := listenBodyMemory(t, netron.Config{}, &Calculator{},
		httptransport.WithMaxBodySize(256<<10), httptransport.WithMaxBodyMemory(budget))
	h := g.Handler()
	host := strings.TrimPrefix(g.Addr(), "http://")

	var peak atomic.Int64 // the most the gateway held, sampled through the flood
	stopSampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := h.BodyBytesHeld(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	defer func() { close(stopSampling); <-sampled }()

	body := addBody(size)
	conns := make([]net.Conn, flooders)
	answers := make(chan rawAnswer, flooders)
	for i := range conns {
		conns[i] = dialRaw(t, host)
		if _, err := io.WriteString(conns[i], requestHead("/api/calculator/add", size)+body[:1024]); err != nil {
			t.Fatal(err)
		}
		go func() { answers <- readRawAnswer(i, conns[i]) }()
	}
	answered := map[int]bool{}
	for range flooders - fit {
		a := <-answers
		answered[a.i] = true
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.code != "unavailable" ||
			!strings.Contains(a.body, "http.maxBodyMemory") || !strings.Contains(a.body, strconv.Itoa(budget)) ||
			a.header.Get("Retry-After") == "" || !a.closed {
			t.Fatalf("a request over the budget got %d %s (%v), closed %v, Retry-After %q; want 503 unavailable naming http.maxBodyMemory and its %d bytes, closed",
				a.status, a.body, a.err, a.closed, a.header.Get("Retry-After"), budget)
		}
	}
	if n := h.BodyBytesHeld(); n != fit*size {
		t.Fatalf("with %d bodies of %d bytes admitted the gateway holds %d bytes; want %d", fit, size, n, fit*size)
	}
	// Let the sampler see the bodies admitted: on a loaded machine it may
	// not run at all in the few milliseconds they are held (the check of
	// the peak below wants them seen).
	for deadline := time.Now().Add(10 * time.Second); peak.Load() < fit*size; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sampler never saw the %d bytes held (peak %d)", fit*size, peak.Load())
		}
	}

	// Served during the flood: small requests, which fit in what is left.
	c := client(t)
	if r := post(t, c, g.Addr()+"/api/calculator/add", "[1,2]"); r.status != 200 || string(r.body) != "3" {
		t.Fatalf("a small request during the flood: %d %s", r.status, r.body)
	}
	if r := post(t, c, g.Addr()+"/netron/invoke", `{"id":"1","service":"calculator@1.0.0","method":"add","input":[2,3]}`); r.status != 200 {
		t.Fatalf("a small invoke during the flood: %d %s", r.status, r.body)
	}
	// A body of unknown length is refused when it outgrows what is left.
	chunked := dialRaw(t, host)
	big := addBody(64 << 10)
	if _, err := fmt.Fprintf(chunked, "%s%x\r\n%s\r\n0\r\n\r\n", requestHead("/api/calculator/add", -1), len(big), big); err != nil {
		t.Fatal(err)
	}
	if a := readRawAnswer(0, chunked); a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "http.maxBodyMemory") {
		t.Fatalf("a chunked body over what is left: %d %s (%v); want 503 naming http.maxBodyMemory", a.status, a.body, a.err)
	}
	waitHeld(t, h, fit*size)

	// One admitted client goes away mid-body; the others complete theirs.
	first := true
	for i, c := range conns {
		if answered[i] {
			continue
		}
		if first {
			first = false
			_ = c.Close()
			waitHeld(t, h, (fit-1)*size)
			continue
		}
		if _, err := io.WriteString(c, body[1024:]); err != nil {
			t.Fatal(err)
		}
	}
	for range fit {
		a := <-answers
		if answered[a.i] {
			t.Fatalf("request %d answered twice", a.i)
		}
		if a.err == nil && (a.status != 200 || a.body != "3") {
			t.Fatalf("an admitted body got %d %s; want 200 3", a.status, a.body)
		}
	}
	waitHeld(t, h, 0)
	if p := peak.Load(); p > budget || p < fit*size {
		t.Fatalf("the gateway held up to %d bytes of request bodies; want at most the budget, %d (and %d seen)", p, budget, fit*size)
	}
}

// TestBodyMemoryReleasedOnEveryPath: what a request reserved of the body
// budget is given back whatever its end: an answer, an error before or
// after its call, a body too large, a body not completed in time, a client
// gone mid-body; and it is held while the call runs.
func TestBodyMemoryReleasedOnEveryPath(t *testing.T) {
	t.Parallel()
	calc := &Calculator{sleeping: make(chan struct{}, 1)}
	g := listenBodyMemory(t, netron.Config{FrameTimeout: 300 * time.Millisecond}, calc,
		httptransport.WithMaxBodySize(4<<10), httptransport.WithMaxBodyMemory(1<<20))
	h := g.Handler()
	host := strings.TrimPrefix(g.Addr(), "http://")
	invoke := func(method, input string) string {
		return `{"id":"1","service":"calculator@1.0.0","method":"` + method + `","input":` + input + `}`
	}
	whole := func(path, body string) string { return requestHead(path, len(body)) + body }
	for _, c := range []struct {
		name    string
		request string
		close   bool // close the connection after the request, without reading the answer
		status  int
	}{
		{"invoke", whole("/netron/invoke", invoke("add", "[1,2]")), false, 200},
		{"route", whole("/api/calculator/add", "[1,2]"), false, 200},
		{"batch", whole("/netron/batch", `{"id":"b","requests":[`+invoke("add", "[1,2]")+`]}`), false, 200},
		{"stream", "POST /api/calculator/countThenFail HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nContent-Length: 3\r\n\r\n[3]", false, 200},
		{"invalid JSON", whole("/netron/invoke", `{"id":`), false, 400},
		{"call error", whole("/netron/invoke", invoke("div", "[1,0]")), false, 400},
		{"call timeout", whole("/netron/invoke", `{"id":"1","service":"calculator@1.0.0","method":"sleep","input":[5000],"hints":{"timeout":20}}`), false, 408},
		{"authenticate", whole("/netron/authenticate", `{"id":"1","credentials":{}}`), false, 503},
		{"announced too large", requestHead("/netron/invoke", 5<<10), false, 413},
		{"chunked too large", requestHead("/netron/invoke", -1) + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", 5<<10, strings.Repeat(" ", 5<<10)), false, 413},
		{"not completed in time", requestHead("/api/calculator/add", 100) + "[1,", false, 408},
		{"client gone", requestHead("/api/calculator/add", 100) + "[1,", true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, host)
			if _, err := io.WriteString(conn, c.request); err != nil {
				t.Fatal(err)
			}
			if c.close {
				waitHeld(t, h, 100)
				_ = conn.Close()
			} else if a := readRawAnswer(0, conn); a.err != nil || a.status != c.status {
				t.Fatalf("%d %s (%v); want %d", a.status, a.body, a.err, c.status)
			}
			if c.name == "call timeout" {
				<-calc.sleeping
			}
			waitHeld(t, h, 0)
		})
	}
	t.Run("held while the call runs", func(t *testing.T) {
		body := "[300]"
		conn := dialRaw(t, host)
		if _, err := io.WriteString(conn, whole("/api/calculator/sleep", body)); err != nil {
			t.Fatal(err)
		}
		<-calc.sleeping
		if n := h.BodyBytesHeld(); n != int64(len(body)) {
			t.Fatalf("during the call the gateway holds %d bytes; want the body's %d", n, len(body))
		}
		if a := readRawAnswer(0, conn); a.status != 200 {
			t.Fatalf("%d %s (%v)", a.status, a.body, a.err)
		}
		waitHeld(t, h, 0)
	})
}

// TestBodyMemoryConfig: the limit must be positive and room for the
// largest body, in each form of the setting, the error naming it.
func TestBodyMemoryConfig(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	for _, c := range []struct {
		opts []httptransport.Option
		want string
	}{
		{[]httptransport.Option{httptransport.WithMaxBodyMemory(0)}, "WithMaxBodyMemory(0): the size must be positive"},
		{[]httptransport.Option{httptransport.WithMaxBodyMemory(1 << 20)}, "WithMaxBodyMemory(1048576): below the largest request body, 10485760 bytes (WithMaxBodySize)"},
		{[]httptransport.Option{httptransport.WithMaxBodyMemory(1 << 20), httptransport.WithMaxBodySize(2 << 20)}, "below the largest request body, 2097152 bytes"},
	} {
		if _, err := httptransport.NewHandler(n, c.opts...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewHandler(%v): %v; want an error saying %q", c.opts, err, c.want)
		}
	}
	for _, opts := range [][]httptransport.Option{
		nil,
		{httptransport.WithMaxBodySize(1 << 30)}, // the default grows to the largest body
		{httptransport.WithMaxBodySize(1 << 10), httptransport.WithMaxBodyMemory(1 << 10)},
	} {
		if _, err := httptransport.NewHandler(n, opts...); err != nil {
			t.Errorf("NewHandler(%v): %v", opts, err)
		}
	}
	for _, c := range []struct {
		cfg  httptransport.Config
		want string
	}{
		{httptransport.Config{MaxBodyMemory: -1}, "http.maxBodyMemory -1: want a positive number of bytes"},
		{httptransport.Config{MaxBodyMemory: 1 << 20}, "http.maxBodyMemory 1048576: below the largest request body, http.maxBody 10485760"},
		{httptransport.Config{MaxBodyMemory: 1 << 20, MaxBody: 2 << 20}, "http.maxBody 2097152"},
	} {
		if _, err := c.cfg.Options(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v.Options(): %v; want an error saying %q", c.cfg, err, c.want)
		}
	}
	if opts, err := (httptransport.Config{MaxBodyMemory: 64 << 20}).Options(); err != nil || len(opts) != 1 || opts[0].String() != "WithMaxBodyMemory(67108864)" {
		t.Errorf("http.maxBodyMemory 64 MiB: %v, %v", opts, err)
	}
}
