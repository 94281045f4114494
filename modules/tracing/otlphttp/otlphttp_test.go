package otlphttp_test

import (
	"context"
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

// TestAppSendsSpans: an app with tracing.exporter otlphttp sends the
// spans of its calls to tracing.endpoint, at the latest when it stops.
func TestAppSendsSpans(t *testing.T) {
	rec := &receiver{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	var n *netron.Netron
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{
			"logger.level=error", "netron.listen=tcp://127.0.0.1:0",
			"tracing.exporter=otlphttp", "tracing.endpoint=" + srv.URL, "tracing.serviceName=echo-app",
		}, Environ: []string{}, NoWatch: true}),
		titan.Service("echo", "1.0.0", func() Echo { return Echo{} }),
		titan.Invoke(func(x *netron.Netron) { n = x }),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
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
	for _, tc := range []struct {
		endpoint string
		ok       bool
	}{
		{"http://collector:4318", true},
		{"https://collector:4318/custom/path", true},
		{"collector:4318", false},
		{"ftp://collector", false},
		{"http://", false},
	} {
		_, err := otlphttp.New(context.Background(), tracing.Config{Exporter: otlphttp.Name, Endpoint: tc.endpoint})
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "tracing.endpoint") {
			t.Errorf("%q: %v", tc.endpoint, err)
		}
	}
}
