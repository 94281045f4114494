package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// newClient returns a Client of base that closes with the test.
func newClient(t testing.TB, base string, opts ...netron.ClientOption) *httptransport.Client {
	t.Helper()
	c, err := httptransport.NewClient(base, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Failer fails with the code it is given, and details naming it.
type Failer struct{}

func (Failer) Fail(_ context.Context, code string) error {
	c, ok := netron.CodeOfName(code)
	if !ok {
		return errors.New("plain failure")
	}
	return netron.NewError(c, errors.New("failed with "+code)).WithDetails(map[string]any{"asked": code, "n": 7})
}

// TestClientCalls: results of every shape decode, arguments of every shape
// arrive, through a Titan gateway.
func TestClientCalls(t *testing.T) {
	s := startServer(t, "")
	if err := s.n.Register("mirror", "1.0.0", Mirror{}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s.addr)
	ctx := context.Background()

	if sum, err := httptransport.CallUnary[float64](ctx, c, "calculator@1.0.0", "add", 2, 3); err != nil || sum != 5 {
		t.Fatalf("add: %v, %v", sum, err)
	}
	if n, err := httptransport.CallUnary[float64](ctx, c, "calculator", "norm", Point{X: 3, Y: 4}); err != nil || n != 25 {
		t.Fatalf("norm of a struct argument: %v, %v", n, err)
	}
	var st Stats
	if err := c.Invoke(ctx, &st, "calculator", "summarize", []float64{1, 2, 6}); err != nil || st != (Stats{Sum: 9, Count: 3, Avg: 3}) {
		t.Fatalf("summarize into a struct: %+v, %v", st, err)
	}
	st = Stats{Count: -1}
	if err := c.Invoke(ctx, &st, "calculator", "reset"); err != nil || st.Count != -1 {
		t.Fatalf("void method: %+v (want out untouched), %v", st, err)
	}
	select {
	case <-s.calc.resets:
	default:
		t.Fatal("reset did not run")
	}
	if items, err := httptransport.CallUnary[[]int](ctx, c, "calculator", "count", 4); err != nil || !reflect.DeepEqual(items, []int{0, 1, 2, 3}) {
		t.Fatalf("stream drained into a slice: %v, %v", items, err)
	}
	if b, err := httptransport.CallUnary[[]byte](ctx, c, "mirror", "bytes", []byte{0, 1, 255}); err != nil || !reflect.DeepEqual(b, []byte{3, 0, 1, 255}) {
		t.Fatalf("bytes both ways: %v, %v", b, err)
	}
	var gen any
	if err := c.Invoke(ctx, &gen, "mirror", "echo", map[string]any{"b": 1, "a": []any{"x", nil, true}}); err != nil {
		t.Fatal(err)
	}
	want := protocol.Object{{Key: "a", Value: []any{"x", nil, true}}, {Key: "b", Value: int64(1)}} // keys sorted: a Go map has no order
	if !reflect.DeepEqual(gen, want) {
		t.Fatalf("generic result: %#v, want %#v", gen, want)
	}
	var raw protocol.RawValue
	if err := c.Invoke(ctx, &raw, "mirror", "echo", "héllo \"quoted\"\n"); err != nil {
		t.Fatal(err)
	}
	if v, err := protocol.DecodeValue(raw, protocol.Limits{}); err != nil || v != "héllo \"quoted\"\n" {
		t.Fatalf("raw result: %v, %v", v, err)
	}
	if err := c.Invoke(ctx, nil, "calculator", "add", 1, 1); err != nil {
		t.Fatalf("nil out: %v", err)
	}
}

// TestClientErrors: every code a method returns reaches the caller with
// its message and details, including the codes that share an HTTP status;
// calls that get no answer say why.
func TestClientErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	if err := s.n.Register("failer", "1.0.0", Failer{}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s.addr)
	ctx := context.Background()
	for _, code := range netron.Codes {
		err := c.Invoke(ctx, nil, "failer", "fail", code.String())
		var ne *netron.Error
		if !errors.As(err, &ne) || ne.Code() != code || ne.Message() != "failed with "+code.String() {
			t.Errorf("%s: got %v", code, err)
			continue
		}
		d, ok := ne.Details().(protocol.Object)
		if asked, _ := d.Get("asked"); !ok || asked != code.String() {
			t.Errorf("%s: details %#v", code, ne.Details())
		}
	}
	for _, tc := range []struct {
		service, method string
		args            []any
		code            netron.Code
		msg             string
	}{
		{"failer", "fail", []any{"nonsense"}, netron.CodeUnknown, "plain failure"},
		{"calculator", "div", []any{1, 0}, netron.CodeInvalidArgument, "division by zero"},
		{"calculator", "nope", nil, netron.CodeNotFound, `service calculator@1.0.0 has no method "nope" (it has: add, count, countThenFail, div, norm, reset, sleep, summarize)`},
		{"nope", "add", nil, netron.CodeNotFound, `no service matches "nope" (the server has: calculator@1.0.0, failer@1.0.0)`},
		{"calculator", "add", []any{"two", 3}, netron.CodeInvalidArgument, ""},
	} {
		err := c.Invoke(ctx, nil, tc.service, tc.method, tc.args...)
		if netron.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s.%s%v: %v, want %s %q", tc.service, tc.method, tc.args, err, tc.code, tc.msg)
		}
	}

	// The deadline travels: the gateway ends the call when the caller gives up.
	s.calc.sleeping = make(chan struct{}, 1)
	dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := c.Invoke(dctx, nil, "calculator", "sleep", 5000); netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Errorf("sleep past the deadline: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the call took %v", d)
	}
	select {
	case <-s.calc.sleeping:
	case <-time.After(5 * time.Second):
		t.Error("sleep never ran")
	}
	s.calc.sleeping = nil

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Invoke(cctx, nil, "calculator", "add", 1, 2); netron.CodeOf(err) != netron.CodeCanceled {
		t.Errorf("canceled context: %v", err)
	}
	if err := c.Invoke(ctx, nil, "calculator", "add", make(chan int)); netron.CodeOf(err) != netron.CodeInvalidArgument || !strings.Contains(err.Error(), "argument 1") {
		t.Errorf("an argument with no JSON form: %v", err)
	}
	small := newClient(t, s.addr, httptransport.WithMaxResponseSize(16))
	if _, err := httptransport.CallUnary[Stats](ctx, small, "calculator", "summarize", []float64{1}); netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Errorf("answer over the size limit: %v", err)
	}
	if _, err := httptransport.CallUnary[string](ctx, c, "calculator", "add", 1, 2); netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(err.Error(), "decode result") {
		t.Errorf("result of the wrong type: %v", err)
	}

	// The client keeps working after all of that.
	if sum, err := httptransport.CallUnary[float64](ctx, c, "calculator", "add", 20, 22); err != nil || sum != 42 {
		t.Fatalf("add after the errors: %v, %v", sum, err)
	}

	// Nobody listening: unavailable.
	gone := httptest.NewServer(http.NotFoundHandler())
	addr := gone.URL
	gone.Close()
	if err := newClient(t, addr).Invoke(ctx, nil, "calculator", "add", 1, 2); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Errorf("no server: %v", err)
	}
}

// TestClientSpeaksTheProtocol: what the client sends (§11.2, §11.9) and how
// it reads the answers of a server that is not a Titan gateway (no
// X-Titan-Code header), such as the TypeScript one.
func TestClientSpeaksTheProtocol(t *testing.T) {
	type seen struct {
		path, contentType, auth, trace string
		body                           map[string]any
	}
	got := make(chan seen, 1)
	var answer struct {
		status int
		body   string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, b)
		}
		got <- seen{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), r.Header.Get("X-Trace"), m}
		w.WriteHeader(answer.status)
		_, _ = io.WriteString(w, answer.body)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/api", netron.WithBearerToken("tok"), httptransport.WithHeader("X-Trace", "t1"),
		httptransport.WithHTTPClient(srv.Client()))
	ctx := context.Background()

	answer.status, answer.body = 200, `{"id":"x","success":true,"data":{"sum":3,"count":2,"avg":1.5},"hints":{"metrics":{"serverTime":0}}}`
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := httptransport.CallUnary[Stats](dctx, c, "calculator@1.0.0", "summarize", []float64{1, 2})
	if err != nil || st != (Stats{Sum: 3, Count: 2, Avg: 1.5}) {
		t.Fatalf("summarize: %+v, %v", st, err)
	}
	r := <-got
	if r.path != "/api/netron/invoke" || r.contentType != "application/json" || r.auth != "Bearer tok" || r.trace != "t1" {
		t.Errorf("request: %+v", r)
	}
	id, _ := r.body["id"].(string)
	hints, _ := r.body["hints"].(map[string]any)
	timeout, _ := hints["timeout"].(float64)
	if id == "" || r.body["service"] != "calculator@1.0.0" || r.body["method"] != "summarize" ||
		!reflect.DeepEqual(r.body["input"], []any{[]any{float64(1), float64(2)}}) || timeout < 50_000 || timeout > 60_000 {
		t.Errorf("request body: %v", r.body)
	}
	if err := c.Invoke(ctx, nil, "calculator", "add"); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r.body["hints"] != nil || r.body["id"] == id || !reflect.DeepEqual(r.body["input"], []any{}) {
		t.Errorf("a call without deadline or arguments: %v (the first id was %q)", r.body, id)
	}

	for _, tc := range []struct {
		status int
		body   string
		code   netron.Code
		msg    string
	}{
		{409, `{"id":"x","success":false,"error":{"code":"409","message":"Conflict here","details":{}}}`, netron.CodeAlreadyExists, "Conflict here"},
		{401, `{"id":"x","success":false,"error":{"code":"SESSION_EXPIRED","message":"expired","details":{"errorCode":"SESSION_EXPIRED"}}}`, netron.CodeUnauthenticated, "expired"},
		{500, `{"error":true,"message":"boom","code":"500","timestamp":1}`, netron.CodeInternal, "HTTP 500: Internal Server Error"},
		{502, `<html>Bad gateway</html>`, netron.CodeOfWire(502), "HTTP 502: Bad Gateway"},
		{200, `not json`, netron.CodeInternal, "not a JSON object"},
		{200, `{"id":"x"}`, netron.CodeInternal, "no success member"},
		{200, `{"id":"x","success":true,"data":"three"}`, netron.CodeInternal, "decode result"},
		{200, `{"success":false,"error":{"code":404,"message":"gone"}}`, netron.CodeNotFound, "gone"},
		{302, ``, netron.CodeInternal, "HTTP 302: Found"},
	} {
		answer.status, answer.body = tc.status, tc.body
		_, err := httptransport.CallUnary[float64](ctx, c, "calculator", "add", 1, 2)
		<-got
		if netron.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%d %s: %v, want %s %q", tc.status, tc.body, err, tc.code, tc.msg)
		}
	}
	answer.status, answer.body = 401, `{"success":false,"error":{"code":"SESSION_EXPIRED","message":"expired","details":{"errorCode":"SESSION_EXPIRED"}}}`
	err = c.Invoke(ctx, nil, "calculator", "add")
	<-got
	var ne *netron.Error
	if !errors.As(err, &ne) {
		t.Fatal(err)
	}
	if d, _ := ne.Details().(protocol.Object); d == nil {
		t.Errorf("details: %#v", ne.Details())
	} else if ec, _ := d.Get("errorCode"); ec != "SESSION_EXPIRED" {
		t.Errorf("details.errorCode: %#v", ne.Details())
	}
}

func TestNewClientErrors(t *testing.T) {
	for _, tc := range []struct {
		base string
		opts []netron.ClientOption
		want string
	}{
		{"tcp://127.0.0.1:1", nil, "want http://"},
		{"http://", nil, "want http://"},
		{"http://h/?q=1", nil, "want http://"},
		{"http://u:p@h/", nil, "want http://"},
		{"http://h", []netron.ClientOption{httptransport.WithHTTPClient(nil)}, "WithHTTPClient(nil): give an *http.Client"},
		{"http://h", []netron.ClientOption{netron.WithBearerToken("a\nb")}, "BearerToken(…): want a non-empty token"},
		{"http://h", []netron.ClientOption{httptransport.WithHeader("Bad Key", "v")}, `WithHeader("Bad Key"): not a valid header`},
		{"http://h", []netron.ClientOption{httptransport.WithHeader("a(b", "v")}, `WithHeader("a(b")`},
		{"http://h", []netron.ClientOption{httptransport.WithHeader("X", "v\x00")}, `WithHeader("X")`},
		{"http://h", []netron.ClientOption{netron.WithBearerToken("t\x01")}, "BearerToken(…)"},
		{"http://h", []netron.ClientOption{httptransport.WithMaxResponseSize(0)}, "WithMaxResponseSize(0): the size must be positive, not 0"},
		{"http://h", []netron.ClientOption{nil}, "nil ClientOption"},
		// Options of other clients are refused, named, with where they go.
		{"http://h", []netron.ClientOption{netron.WithAddress("tcp://h:1")}, `At("tcp://h:1"): not an option of a client without a Netron`},
		{"http://h", []netron.ClientOption{netron.WithBalancer(netron.Random)}, `Balancer("random"): not an option`},
		{"http://h", []netron.ClientOption{netron.WithInterceptors()}, `Interceptors(0): not an option of a client without a Netron (http.NewClient): http.NewClient calls without interceptors: use netron.Dial`},
		{"http://h", []netron.ClientOption{netron.WithStrict()}, `Strict(): not an option of a client without a Netron (http.NewClient): it is an option of a Netron`},
	} {
		if _, err := httptransport.NewClient(tc.base, tc.opts...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.base, tc.opts, err, tc.want)
		}
	}
	// The deprecated names are the same options: same String, same error.
	for _, p := range []struct{ old, new netron.ClientOption }{
		{httptransport.WithBearerToken("a\nb"), netron.WithBearerToken("a\nb")},
		{netron.WithBearerToken("tok"), netron.WithBearerToken("tok")},
	} {
		_, errOld := httptransport.NewClient("http://h", p.old)
		_, errNew := httptransport.NewClient("http://h", p.new)
		if p.old.String() != p.new.String() || fmt.Sprint(errOld) != fmt.Sprint(errNew) {
			t.Errorf("deprecated %s (%v) differs from %s (%v)", p.old, errOld, p.new, errNew)
		}
	}
}
