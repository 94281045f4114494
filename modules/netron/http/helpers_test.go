package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/titantest"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Calculator is the test service.
type Calculator struct {
	resets   chan struct{}
	sleeping chan struct{} // Sleep reports its start here, when set
}

// Point is the single struct argument of Norm.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Stats is a struct result whose field order the JSON must keep.
type Stats struct {
	Sum   float64 `json:"sum"`
	Count int     `json:"count"`
	Avg   float64 `json:"avg"`
}

func (c *Calculator) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (c *Calculator) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}

// Norm takes one struct: its JSON route takes the object itself.
func (c *Calculator) Norm(_ context.Context, p Point) (float64, error) {
	return p.X*p.X + p.Y*p.Y, nil
}

func (c *Calculator) Summarize(_ context.Context, xs []float64) (Stats, error) {
	s := Stats{Count: len(xs)}
	for _, x := range xs {
		s.Sum += x
	}
	if len(xs) > 0 {
		s.Avg = s.Sum / float64(len(xs))
	}
	return s, nil
}

// Reset is void.
func (c *Calculator) Reset(context.Context) error {
	if c.resets != nil {
		select {
		case c.resets <- struct{}{}:
		default:
		}
	}
	return nil
}

// Count yields 0..n-1.
func (c *Calculator) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// CountThenFail yields 0..n-1, then fails with unavailable.
func (c *Calculator) CountThenFail(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, netron.Errorf(netron.CodeUnavailable, "backend gone"))
	}
}

// Sleep waits ms milliseconds or until the call ends.
func (c *Calculator) Sleep(ctx context.Context, ms int) (int, error) {
	if c.sleeping != nil {
		c.sleeping <- struct{}{}
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Secret is exported but not public (no context): never reachable.
func (c *Calculator) Secret() string { return "secret" }

// calculatorMethods are the public methods of Calculator.
var calculatorMethods = []string{"add", "count", "countThenFail", "div", "norm", "reset", "sleep", "summarize"}

// server is a Netron serving the calculator over HTTP.
type server struct {
	n    *netron.Netron
	addr string
	calc *Calculator
}

func startServer(t testing.TB, query string, opts ...netron.Option) *server {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil, append([]netron.Option{titantest.AppFeatures(t, netron.Config{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	calc := &Calculator{resets: make(chan struct{}, 1)}
	if err := n.Register("calculator", "1.0.0", calc, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr, err := n.Listen(ctx, "http://127.0.0.1:0"+query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &server{n: n, addr: addr, calc: calc}
}

// client returns an HTTP client whose idle connections close with the test.
func client(t testing.TB) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// reply is an HTTP answer with its body.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body, numbers as json.Number.
func (r reply) json(t testing.TB) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v
}

// obj decodes the body as an object.
func (r reply) obj(t testing.TB) map[string]any {
	t.Helper()
	m, ok := r.json(t).(map[string]any)
	if !ok {
		t.Fatalf("body %s is not an object", r.body)
	}
	return m
}

func do(t testing.TB, c *http.Client, method, url, body string, header ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func post(t testing.TB, c *http.Client, url, body string, header ...string) reply {
	t.Helper()
	return do(t, c, http.MethodPost, url, body, header...)
}

// errorOf returns the error object of an error body.
func errorOf(t testing.TB, r reply) map[string]any {
	t.Helper()
	m := r.obj(t)
	if m["success"] != false {
		t.Fatalf("not an error body: %s", r.body)
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.body)
	}
	return e
}

// listenGateway serves n's services on an HTTP port with opts; the
// gateway is shut down and n stopped with the test (a failed shutdown
// fails the test).
func listenGateway(t *testing.T, n *netron.Netron, opts ...httptransport.Option) *httptransport.Gateway {
	t.Helper()
	g, err := httptransport.Listen(context.Background(), n, "http://127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		_ = n.Stop(ctx)
	})
	return g
}
