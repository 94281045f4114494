package stdout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/tracing"
	"github.com/titanframework/titan/modules/tracing/stdout"
)

type Echo struct{}

func (Echo) Echo(_ context.Context, s string) (string, error) { return s, nil }

// TestWritesSpans: the exporter writes each span as one JSON object.
func TestWritesSpans(t *testing.T) {
	if _, err := stdout.New(context.Background(), tracing.Config{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(stdout.NewWriter(&buf)))
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(tracing.NewInterceptor(tp)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	if err := n.Register("echo", "1.0.0", Echo{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	peer, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := peer.Call(ctx, "echo@1.0.0", "echo", "hi"); err != nil {
		t.Fatal(err)
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var names []string
	for dec.More() {
		var span struct{ Name string }
		if err := dec.Decode(&span); err != nil {
			t.Fatal(err)
		}
		names = append(names, span.Name)
	}
	if len(names) != 2 || names[0] != "echo@1.0.0/echo" || names[1] != "echo@1.0.0/echo" {
		t.Fatalf("spans written: %q", names)
	}
}

// TestRefusesEndpoint: an app naming the stdout exporter and an endpoint
// fails to start, naming the key, rather than leaving the endpoint unused.
func TestRefusesEndpoint(t *testing.T) {
	app := titan.New(titan.WithConfig(config.Options{Sets: []string{"logger.level=error",
		"tracing.exporter=stdout", "tracing.endpoint=http://collector:4318"}, Environ: []string{}, NoWatch: true}))
	err := app.Err()
	if err == nil {
		err = app.Start(context.Background())
		_ = app.Stop(context.Background())
	}
	if err == nil {
		t.Fatal("the app started")
	}
	if !strings.Contains(err.Error(), `tracing.endpoint "http://collector:4318"`) {
		t.Errorf("error %q does not name tracing.endpoint", err)
	}
}
