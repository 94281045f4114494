package otlphttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
	"github.com/titanframework/titan/modules/tracing/otlphttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type Echo struct{}

func (Echo) Echo(_ context.Context, s string) (string, error) { return s, nil }

// Refuse fails with a message that is not UTF-8, as one quoting bytes
// from a file or a request may be.
func (Echo) Refuse(context.Context) error { return errors.New("refused: \xff") }

// receiver is an OTLP/HTTP receiver that keeps what it is sent.
type receiver struct {
	mu    sync.Mutex
	posts []string // "<path> <content type> <body size>"
	body  []byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.posts = append(r.posts, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
	r.body = append(r.body, b...)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// startTracedApp starts an app serving echo@1.0.0 on a tcp listener that
// sends its spans to endpoint with otlphttp, with the sets and opts on
// top, and returns it with its Netron; the test stops it.
func startTracedApp(t *testing.T, ctx context.Context, endpoint string, sets []string, opts ...titan.Option) (*titan.App, *netron.Netron) {
	t.Helper()
	var n *netron.Netron
	app := titan.New(append([]titan.Option{
		titan.WithConfig(config.Options{Sets: append([]string{
			"logger.level=error", "netron.listen=tcp://127.0.0.1:0",
			"tracing.exporter=otlphttp", "tracing.endpoint=" + endpoint,
		}, sets...), Environ: []string{}, NoWatch: true}),
		titan.Service("echo", "1.0.0", func() Echo { return Echo{} }),
		titan.Invoke(func(x *netron.Netron) { n = x }),
	}, opts...)...)
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return app, n
}

// TestAppSendsSpans: an app with tracing.exporter otlphttp sends the
// spans of its calls to tracing.endpoint, at the latest when it stops.
func TestAppSendsSpans(t *testing.T) {
	t.Parallel()
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, n := startTracedApp(t, ctx, srv.URL, []string{"tracing.serviceName=echo-app"})
	peer, err := netron.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, err := netron.CallUnary[string](ctx, peer, "echo@1.0.0", "echo", "hi"); err != nil || got != "hi" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	peer.Close()
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.posts) == 0 || rec.posts[0] != "POST /v1/traces application/x-protobuf" {
		t.Fatalf("the receiver got %q", rec.posts)
	}
	// The protobuf holds the span name and the service name as strings.
	for _, want := range []string{"echo@1.0.0/echo", "echo-app", "rpc.system", "netron"} {
		if !strings.Contains(string(rec.body), want) {
			t.Errorf("the spans sent do not hold %q", want)
		}
	}
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://collector:4318", true},
		{"https://collector:4318/custom/path", true},
		{"collector:4318", false},
		{"ftp://collector", false},
		{"http://", false},
		// What the exporter would drop: credentials, a query, a fragment.
		{"https://user:secret@collector:4318", false},
		{"http://collector:4318/v1/traces?tenant=a", false},
		{"http://collector:4318#traces", false},
	} {
		_, err := otlphttp.New(context.Background(), tracing.Config{Exporter: otlphttp.Name, Endpoint: tc.endpoint})
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "tracing.endpoint") {
			t.Errorf("%q: %v", tc.endpoint, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", tc.endpoint, err)
		}
	}
}

// TestStopWithSilentCollector: a collector that accepts connections and
// never answers costs the app's stop a bounded share of its time: the
// hooks that stop after tracing's (here the admin server's) still run,
// the stop reports the spans it could not send, and nothing of the
// exporter is left running.
func TestStopWithSilentCollector(t *testing.T) {
	t.Parallel()
	silent := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // r's context then ends when the sender leaves
		select {
		case <-silent:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(silent)
	before := goleak.IgnoreCurrent()

	ctx := context.Background()
	app, n := startTracedApp(t, ctx, srv.URL, []string{"metrics.listen=127.0.0.1:0"}, titan.StopTimeout(4*time.Second))
	peer, err := netron.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := netron.CallUnary[string](ctx, peer, "echo@1.0.0", "echo", "hi"); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	start := time.Now()
	err = app.Stop(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the stop took %v of its 4s", took)
	}
	if err == nil || !strings.Contains(err.Error(), "tracing.exporter otlphttp") {
		t.Errorf("stop: %v, want an error about the spans not sent", err)
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("after the stop, still running: %v", err)
	}
}

// TestBadNameLosesNoSpans: a call made to a method whose name is not
// UTF-8, or answered with an error whose message is not, does not cost
// the spans sent with its span (OTLP strings must be UTF-8: one bad
// string fails the whole batch).
func TestBadNameLosesNoSpans(t *testing.T) {
	t.Parallel()
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, n := startTracedApp(t, ctx, srv.URL, nil)
	self, err := n.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := self.Call(ctx, "echo@1.0.0", "ec\xffho", "hi"); err == nil {
		t.Error("a method named ec\\xffho answered")
	}
	// The method's error is the server span's status.
	if _, err := self.Call(ctx, "echo@1.0.0", "refuse"); netron.CodeOf(err) != netron.CodeUnknown {
		t.Errorf("refuse: %v", err)
	}
	if got, err := netron.CallUnary[string](ctx, self, "echo@1.0.0", "echo", "hi"); err != nil || got != "hi" {
		t.Fatalf("echo: %q, %v", got, err)
	}
	self.Close()
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !strings.Contains(string(rec.body), "echo@1.0.0/echo") {
		t.Fatalf("the collector got no span of echo (%d posts)", len(rec.posts))
	}
}
