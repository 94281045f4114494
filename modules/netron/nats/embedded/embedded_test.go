package embedded_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/nats/embedded"
)

type Calc struct{}

func (Calc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (Calc) Echo(_ context.Context, s string) (string, error) { return s, nil }

func (Calc) Grow(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil }

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallThroughAnEmbeddedServer(t *testing.T) {
	srv, err := embedded.Start(embedded.WithMaxPayload(64 << 10))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if !strings.HasPrefix(srv.URL(), "nats://127.0.0.1:") {
		t.Fatalf("URL = %s", srv.URL())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Listen(ctx, srv.URL()); err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())

	p, err := netron.Dial(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	sum, err := netron.CallUnary[float64](ctx, p, "calculator@^1", "add", 2, 3)
	if err != nil || sum != 5 {
		t.Fatalf("add = %v, %v", sum, err)
	}
	// The frame limit follows the server's max_payload (64 KiB here).
	_, err = p.Call(ctx, "calculator@1.0.0", "echo", strings.Repeat("x", 100<<10))
	if netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("100 KiB through a 64 KiB server: %v", err)
	}
	if _, err := p.Call(ctx, "calculator@1.0.0", "echo", strings.Repeat("x", 60<<10)); err != nil {
		t.Fatalf("60 KiB: %v", err)
	}
	// An answer above max_payload is replaced by an error.
	_, err = p.Call(ctx, "calculator@1.0.0", "grow", 100<<10)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "answer") {
		t.Fatalf("100 KiB answer: %v", err)
	}
}
