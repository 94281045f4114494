package http_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// CalculatorClient binds the calculator's methods, as an app's client
// struct does.
type CalculatorClient struct {
	Add   func(ctx context.Context, a, b float64) (float64, error)
	Norm  func(ctx context.Context, p Point) (float64, error)
	Reset func(ctx context.Context) error
	Count func(ctx context.Context, n int) iter.Seq2[int, error]
}

// dialHTTP dials addr with netron.Dial and closes the peer with the test.
func dialHTTP(t *testing.T, addr string) *netron.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatalf("netron.Dial(%s): %v", addr, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// TestDialHTTP: netron.Dial accepts http:// and gives the Peer API of
// every other scheme: unary calls, streams read as they come, typed
// bindings checked against the definition, errors with their codes.
func TestDialHTTP(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	p := dialHTTP(t, s.addr)
	ctx := context.Background()

	if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("add: %v, %v", v, err)
	}
	if v, err := netron.CallUnary[float64](ctx, p, "calculator@^1", "norm", Point{X: 3, Y: 4}); err != nil || v != 25 {
		t.Fatalf("norm through a range: %v, %v", v, err)
	}
	r, err := p.Call(ctx, "calculator", "reset")
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	if v, err := r.Value(); err != nil || v != nil {
		t.Fatalf("a void method's reply: %v, %v", v, err)
	}

	var got []int
	for v, err := range netron.CallStream[int](ctx, p, "calculator@1.0.0", "count", 5) {
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		got = append(got, v)
	}
	if !reflect.DeepEqual(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("count(5) = %v", got)
	}
	st, err := p.OpenStream(ctx, "calculator", "count", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("an empty stream: %v, want io.EOF", err)
	}

	// A stream that fails after its items ends with the method's own code.
	got = got[:0]
	var end error
	for v, err := range netron.CallStream[int](ctx, p, "calculator", "countThenFail", 2) {
		if err != nil {
			end = err
			break
		}
		got = append(got, v)
	}
	if !reflect.DeepEqual(got, []int{0, 1}) || netron.CodeOf(end) != netron.CodeUnavailable || !strings.Contains(end.Error(), "backend gone") {
		t.Fatalf("countThenFail: items %v, end %v (code %v)", got, end, netron.CodeOf(end))
	}

	// Breaking out of a long stream ends it.
	n := 0
	for _, err := range netron.CallStream[int](ctx, p, "calculator", "count", 1_000_000) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}

	var c CalculatorClient
	if err := p.Bind(ctx, "calculator@^1", &c); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if v, err := c.Add(ctx, 20, 22); err != nil || v != 42 {
		t.Fatalf("bound add: %v, %v", v, err)
	}
	got = got[:0]
	for v, err := range c.Count(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !reflect.DeepEqual(got, []int{0, 1, 2}) {
		t.Fatalf("bound count: %v", got)
	}

	list, err := p.Services(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "calculator" || list[0].Version != "1.0.0" || !reflect.DeepEqual(list[0].Methods, calculatorMethods) {
		t.Fatalf("services: %+v, %v; want calculator@1.0.0 with %v", list, err, calculatorMethods)
	}

	def, err := p.Definition(ctx, "calculator@^1")
	if err != nil || def.MetaString("name") != "calculator" || def.MetaString("version") != "1.0.0" || def.ID == "" {
		t.Fatalf("definition: %+v, %v", def, err)
	}
}

// TestDialHTTPErrors: what goes wrong over http:// says what, with the
// code it would have over any other scheme.
func TestDialHTTPErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	p := dialHTTP(t, s.addr)
	ctx := context.Background()

	if _, err := netron.CallUnary[float64](ctx, p, "calculator", "div", 1, 0); netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("div by zero: %v (code %v)", err, netron.CodeOf(err))
	}
	if _, err := p.Call(ctx, "calculator", "nosuch"); netron.CodeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("unknown method: %v (code %v)", err, netron.CodeOf(err))
	}
	if _, err := p.OpenStream(ctx, "nosuch", "count", 1); netron.CodeOf(err) != netron.CodeNotFound {
		t.Errorf("stream of an unknown service: %v (code %v)", err, netron.CodeOf(err))
	}
	if _, err := p.Call(ctx, "calculator", "add", "one", 2); netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("a bad argument: %v (code %v)", err, netron.CodeOf(err))
	}
	if _, err := p.Definition(ctx, "nosuch"); netron.CodeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), "calculator@1.0.0") {
		t.Errorf("definition of an unknown service: %v (code %v), want not_found listing calculator@1.0.0", err, netron.CodeOf(err))
	}

	var wrong struct {
		Nope func(ctx context.Context) error
	}
	if err := p.Bind(ctx, "calculator", &wrong); err == nil || !strings.Contains(err.Error(), "field Nope") {
		t.Errorf("Bind of a field the service lacks: %v", err)
	}

	for what, err := range map[string]error{
		"Subscribe": func() error { _, err := p.Subscribe(ctx, "news", func(context.Context, netron.Event) {}); return err }(),
		"Ping":      func() error { _, err := p.Ping(ctx); return err }(),
		"Task":      p.Task(ctx, nil, "list_services"),
	} {
		if netron.CodeOf(err) != netron.CodeUnimplemented || !strings.Contains(err.Error(), "carries calls and streams only") {
			t.Errorf("%s over http://: %v (code %v), want unimplemented saying why", what, err, netron.CodeOf(err))
		}
	}

	// A call after Close is refused; nothing is left running (goleak).
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Call(ctx, "calculator", "add", 1, 2); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Errorf("a call after Close: %v (code %v)", err, netron.CodeOf(err))
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done is not closed after Close")
	}

	// Nothing listens: the first call fails, unavailable.
	dead := dialHTTP(t, "http://127.0.0.1:1")
	if _, err := dead.Call(ctx, "calculator", "add", 1, 2); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Errorf("a call to a closed port: %v (code %v)", err, netron.CodeOf(err))
	}
}

// A stream read to its end leaves its connection for the next call, as a
// unary call does, even when the end of the answer comes a little after
// the stream's last event (here a middleware finishing its work after the
// handler): the client does not dial a connection per stream.
func TestClientStreamReusesConnection(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	h, err := httptransport.NewHandler(s.n)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		time.Sleep(20 * time.Millisecond) // an access log written to a slow sink
	}))
	t.Cleanup(srv.Close)
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c := newClient(t, srv.URL, httptransport.WithHTTPClient(&http.Client{Transport: tr}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, method := range []string{"count", "countThenFail", "count"} {
		st, err := c.Stream(ctx, "calculator@1.0.0", method, 2)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		for err == nil {
			_, err = st.Next()
		}
		if method == "count" && err != io.EOF || method == "countThenFail" && netron.CodeOf(err) != netron.CodeUnavailable {
			t.Fatalf("%s: the stream ended with %v", method, err)
		}
		_ = st.Close()
	}
	if _, err := httptransport.CallUnary[float64](ctx, c, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("3 streams read to their end and a call dialled %d connections; want 1, reused", n)
	}
}
