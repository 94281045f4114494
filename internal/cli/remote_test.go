package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Calc is the service the call and inspect tests talk to.
type Calc struct{}

// Point is a struct argument and result.
type Point struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Label string  `json:"label,omitempty"`
}

func (Calc) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (Calc) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
}

func (Calc) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func (Calc) Fail(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		yield(0, netron.Errorf(netron.CodeDataLoss, "tape ran out"))
	}
}

func (Calc) Greet(_ context.Context, name string) (string, error) { return "hello, " + name, nil }

func (Calc) Move(_ context.Context, p Point, dx float64) (Point, error) {
	p.X += dx
	return p, nil
}

func (Calc) Reset(context.Context) error { return nil }

func (Calc) Sleep(ctx context.Context, ms int) (int, error) {
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
		return ms, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Greeter is a second service, listed after calculator.
type Greeter struct{}

func (Greeter) Hello(_ context.Context, name string) (string, error) { return "hi " + name, nil }

func (Greeter) Tags(context.Context, map[string][]string, *bool) ([]Point, error) { return nil, nil }

// serve starts a Netron serving calculator@1.0.0 and greeter@2.0.0 on addr
// (mem:// picks a fresh name, tcp://127.0.0.1:0 a free port) and returns the
// bound address; the server stops when the test ends.
func serve(t *testing.T, addr string) string {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("greeter", "2.0.0", Greeter{},
		netron.WithTransports("mem", "tcp"),
		netron.WithContract("hello",
			json.RawMessage(`{"type":"array","prefixItems":[{"title":"name","type":"string","maxLength":20}],"items":false}`),
			json.RawMessage(`{"type":["string","null"]}`)),
	); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("stop: %v", err)
		}
	})
	return bound
}
