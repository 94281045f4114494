package netron_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/titantest"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
	_ "github.com/titanframework/titan/modules/netron/transport/unix"
)

func TestMain(m *testing.M) {
	if os.Getenv(ipcChildEnv) != "" {
		os.Exit(ipcChild())
	}
	if os.Getenv(confChildEnv) != "" {
		os.Exit(confChild())
	}
	goleak.VerifyTestMain(m)
}

type Point struct {
	X int `json:"x" jsonschema:"minimum=0"`
	Y int `json:"y"`
}

type Calc struct {
	calls       atomic.Int64
	slowRunning atomic.Int64 // Slow calls running
}

func (c *Calc) Add(_ context.Context, a, b float64) (float64, error) {
	c.calls.Add(1)
	return a + b, nil
}

func (c *Calc) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}

func (c *Calc) Move(_ context.Context, p Point, dx int) (Point, error) {
	return Point{X: p.X + dx, Y: p.Y}, nil
}

func (c *Calc) Reset(context.Context) error { return nil }

func (c *Calc) Fail(_ context.Context, code string) error {
	cd, ok := netron.CodeOfName(code)
	if !ok {
		return errors.New("plain failure")
	}
	return netron.NewError(cd, fmt.Errorf("failed with %s", code))
}

func (c *Calc) Panic(context.Context) (int, error) { panic("boom") }

func (c *Calc) Negative(context.Context) (Point, error) { return Point{X: -1}, nil }

func (c *Calc) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func (c *Calc) Slow(ctx context.Context, d time.Duration) (string, error) {
	c.slowRunning.Add(1)
	defer c.slowRunning.Add(-1)
	select {
	case <-time.After(d):
		return "done", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// notPublic has no context: not exposed.
func (c *Calc) NotPublic(a int) int { return a }

type server struct {
	n    *netron.Netron
	calc *Calc
	addr string
}

func startServer(t *testing.T, scheme string, opts ...netron.ServiceOption) *server {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, titantest.AppFeatures(t, netron.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	calc := &Calc{}
	if err := n.Register("calculator", "1.0.0", calc, opts...); err != nil {
		t.Fatal(err)
	}
	addr := scheme + "://127.0.0.1:0"
	switch scheme {
	case "mem":
		addr = "mem://"
	case "unix":
		addr = "unix://" + t.TempDir() + "/n.sock"
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return &server{n: n, calc: calc, addr: bound}
}

// serveOnTCP starts a Netron (default configuration) serving the services
// of impls (name -> implementation, version 1.0.0) on a TCP port, stopped
// with the test, and returns it with a peer dialled to it.
func serveOnTCP(t *testing.T, impls map[string]any, opts ...netron.Option) (*netron.Netron, *netron.Peer) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, append([]netron.Option{titantest.AppFeatures(t, netron.Config{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	for name, impl := range impls {
		if err := n.Register(name, "1.0.0", impl); err != nil {
			t.Fatal(err)
		}
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	return n, dial(t, bound)
}

func dial(t *testing.T, addr string) *netron.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

var schemes = []string{"mem", "tcp", "unix", "ws"}

func TestUnaryCalls(t *testing.T) {
	t.Parallel()
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			s := startServer(t, scheme)
			p := dial(t, s.addr)
			ctx := context.Background()
			for _, target := range []string{"calculator@1.0.0", "calculator@^1", "calculator"} {
				got, err := netron.CallUnary[float64](ctx, p, target, "add", 1, 2)
				if err != nil || got != 3 {
					t.Fatalf("%s add(1,2) = %v, %v", target, got, err)
				}
			}
			pt, err := netron.CallUnary[Point](ctx, p, "calculator@1.0.0", "move", Point{X: 1, Y: 2}, 3)
			if err != nil || pt != (Point{4, 2}) {
				t.Fatalf("move = %v, %v", pt, err)
			}
			if _, err := p.Call(ctx, "calculator@1.0.0", "reset"); err != nil {
				t.Fatalf("reset: %v", err)
			}
			_, err = p.Call(ctx, "calculator@1.0.0", "div", 1, 0)
			if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "division by zero") {
				t.Fatalf("div by zero: %v", err)
			}
		})
	}
}

func TestErrorCodesRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mem")
	p := dial(t, s.addr)
	for _, code := range netron.Codes {
		_, err := p.Call(context.Background(), "calculator@1.0.0", "fail", code.String())
		if got := netron.CodeOf(err); got != code {
			t.Errorf("code %s came back as %s (%v)", code, got, err)
		}
	}
	_, err := p.Call(context.Background(), "calculator@1.0.0", "fail", "nope")
	if netron.CodeOf(err) != netron.CodeUnknown || !strings.Contains(err.Error(), "plain failure") {
		t.Errorf("plain error: %v", err)
	}
}

func TestContracts(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mem")
	p := dial(t, s.addr)
	ctx := context.Background()
	before := s.calc.calls.Load()
	_, err := p.Call(ctx, "calculator@1.0.0", "add", "one", 2)
	if netron.CodeOf(err) != netron.CodeInvalidArgument || err.Error() != "invalid_argument: calculator@1.0.0.add: argument 1: want a number, got a string" {
		t.Fatalf("bad argument: %v", err)
	}
	_, err = p.Call(ctx, "calculator@1.0.0", "add", 1)
	if netron.CodeOf(err) != netron.CodeInvalidArgument || err.Error() != "invalid_argument: calculator@1.0.0.add takes 2 arguments (number, number), got 1" {
		t.Fatalf("missing argument: %v", err)
	}
	if s.calc.calls.Load() != before {
		t.Fatal("a contract violation reached the method")
	}
	_, err = p.Call(ctx, "calculator@1.0.0", "move", map[string]any{"x": -5, "y": 1, "z": 0}, 1)
	if netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "argument 1 at /x: ") || !strings.Contains(err.Error(), "argument 1 at /z: ") {
		t.Fatalf("struct violations: %v", err)
	}
	if paths := violationPaths(err); !slices.Equal(paths, []string{"/0/x", "/0/z"}) {
		t.Fatalf("struct violations: details name %v, want /0/x and /0/z", paths)
	}
	_, err = p.Call(ctx, "calculator@1.0.0", "negative")
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("output violation: %v", err)
	}
}

func TestNotFoundAndPanics(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mem")
	p := dial(t, s.addr)
	ctx := context.Background()
	for _, tc := range []struct{ target, method, want string }{
		{"nosuch@1.0.0", "add", `no service matches "nosuch@1.0.0" (the server has: calculator@1.0.0)`},
		{"calculator@1.0.0", "notPublic", `service calculator@1.0.0 has no method "notPublic" (it has: add, count, div, fail, move, negative, panic, points, reset, slow)`},
		{"calculator@2", "add", `no service matches "calculator@2" (the server has: calculator@1.0.0)`},
	} {
		_, err := p.Call(ctx, tc.target, tc.method, 1)
		if netron.CodeOf(err) != netron.CodeNotFound || err.Error() != "not_found: "+tc.want {
			t.Errorf("%s.%s: %v\nwant not_found: %s", tc.target, tc.method, err, tc.want)
		}
	}
	_, err := p.Call(ctx, "calculator@1.0.0", "panic")
	if netron.CodeOf(err) != netron.CodeInternal || strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic: %v", err)
	}
	if got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 2, 2); err != nil || got != 4 {
		t.Fatalf("server down after panic: %v %v", got, err)
	}
}

func TestStreams(t *testing.T) {
	t.Parallel()
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			s := startServer(t, scheme)
			p := dial(t, s.addr)
			var got []int
			for v, err := range netron.CallStream[int](context.Background(), p, "calculator@1.0.0", "count", 200) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if len(got) != 200 {
				t.Fatalf("got %d items", len(got))
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("item %d = %d", i, v)
				}
			}
		})
	}
}

type CalcClient struct {
	Add   func(ctx context.Context, a, b float64) (float64, error)
	Reset func(ctx context.Context) error
	Count func(ctx context.Context, n int) iter.Seq2[int, error]
	Sum   func(ctx context.Context, a, b float64) (float64, error) `netron:"add"`
}

func TestBind(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	var c CalcClient
	if err := p.Bind(context.Background(), "calculator@^1.0", &c); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := c.Add(ctx, 2, 5); err != nil || v != 7 {
		t.Fatalf("Add = %v, %v", v, err)
	}
	if v, err := c.Sum(ctx, 2, 5); err != nil || v != 7 {
		t.Fatalf("Sum = %v, %v", v, err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for v, err := range c.Count(ctx, 5) {
		if err != nil || v != n {
			t.Fatalf("Count item %d = %v, %v", n, v, err)
		}
		n++
	}
	if n != 5 {
		t.Fatalf("Count gave %d items", n)
	}
}

func TestDeadlineAndCancel(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	p := dial(t, s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Call(ctx, "calculator@1.0.0", "slow", "10s")
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("slow: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("deadline not honoured: %v", time.Since(start))
	}
}

// Points streams struct items: the reflective stream path (item types
// other than the common scalars).
func (c *Calc) Points(_ context.Context, n int) iter.Seq2[Point, error] {
	return func(yield func(Point, error) bool) {
		for i := range n {
			if !yield(Point{X: i, Y: -i}, nil) {
				return
			}
		}
	}
}

func TestStructStream(t *testing.T) {
	t.Parallel()
	s := startServer(t, "mem")
	p := dial(t, s.addr)
	i := 0
	for v, err := range netron.CallStream[Point](context.Background(), p, "calculator@1.0.0", "points", 50) {
		if err != nil || v != (Point{X: i, Y: -i}) {
			t.Fatalf("item %d = %+v, %v", i, v, err)
		}
		i++
	}
	if i != 50 {
		t.Fatalf("%d items", i)
	}
}

type bigText struct{}

func (bigText) Text(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil }

// TestResultOverFrameLimitIsResourceExhausted: a result too large for the
// server's frame limit is answered resource_exhausted, naming the limit
// (as a request over it is), not as an internal error; the connection
// keeps serving.
func TestResultOverFrameLimitIsResourceExhausted(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{MaxFrameSize: 64 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("big", "1.0.0", bigText{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dialWith(t, addr, netron.Config{})
	ctx := context.Background()
	_, err = p.Call(ctx, "big", "text", 100<<10)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "exceeds the frame limit of 65536") {
		t.Fatalf("a result over the frame limit: %v, want resource_exhausted naming the limit", err)
	}
	if v, err := netron.CallUnary[string](ctx, p, "big", "text", 3); err != nil || v != "xxx" {
		t.Fatalf("the next call: %q, %v", v, err)
	}
}

// TestStreamItemOverFrameLimitIsResourceExhausted: a stream item too
// large for the server's frame limit ends the stream resource_exhausted,
// naming the item and the limit, not as an internal error.
func TestStreamItemOverFrameLimitIsResourceExhausted(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{MaxFrameSize: 64 << 10}, nil)
	p := dialWith(t, s.addr, netron.Config{})
	ctx := context.Background()
	st, err := p.OpenStream(ctx, "producer", "items", 2, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.Next()
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "stream item 0 is too large to send") ||
		!strings.Contains(err.Error(), "exceeds the frame limit of 65536") {
		t.Fatalf("an item over the frame limit: %v, want resource_exhausted naming the item and the limit", err)
	}
}
