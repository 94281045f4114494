// Command calculator serves calculator@1.0.0 over Netron: add, sub, mul and
// div on two numbers, and count, a stream of the numbers 0..n-1.
//
//	go run ./examples/calculator
//	go run ./titan call tcp://127.0.0.1:7070 calculator@1.0.0 add 1 2
//	go run ./titan call unix:///tmp/titan-calculator.sock calculator@1.0.0 count 5
//	go run ./titan call ws://127.0.0.1:7080 calculator@1.0.0 mul 6 7
//	go run ./titan inspect tcp://127.0.0.1:7070
//
// With the development UI on, http://127.0.0.1:7080/_titan/ explores and
// calls the service and shows its calculator.computed events, which it
// emits after each add, sub, mul and div:
//
//	go run ./examples/calculator --set devui.enabled=true
//
// It listens where netron.listen says, as any Titan app does; its defaults
// are tcp://127.0.0.1:7070, a Unix socket in the temporary directory, and
// ws:// and http:// on one port, 127.0.0.1:7080. Replace them with
// --set netron.listen=URL,URL (or TITAN_NETRON__LISTEN, or netron.listen in
// titan.yaml); calculator.listen, the key's older name, still works. Over
// HTTP:
//
//	curl -XPOST localhost:7080/api/calculator/add -d '[1,2]'
//	curl localhost:7080/openapi.json
//
// Stop it with Ctrl-C.
package main

import (
	"context"
	"iter"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

// Calculator is the service. Its exported methods with a context first are
// its public methods.
type Calculator struct {
	log    *slog.Logger
	events netron.Events
}

// NewCalculator builds the service from what the app injects: a logger
// that carries module=calculator and the app's events.
func NewCalculator(log *slog.Logger, events netron.Events) *Calculator {
	return &Calculator{log: log, events: events}
}

// ComputedTopic is the event emitted after each computation.
const ComputedTopic = "calculator.computed"

// Computed is the payload of a calculator.computed event.
type Computed struct {
	Op     string  `json:"op"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	Result float64 `json:"result"`
}

// computed emits the event of a computation and returns its result.
func (c *Calculator) computed(ctx context.Context, op string, a, b, result float64) (float64, error) {
	if err := c.events.Emit(ctx, ComputedTopic, Computed{Op: op, A: a, B: b, Result: result}); err != nil {
		c.log.Warn("event not emitted", "topic", ComputedTopic, "error", err)
	}
	return result, nil
}

// Add returns a + b.
func (c *Calculator) Add(ctx context.Context, a, b float64) (float64, error) {
	return c.computed(ctx, "add", a, b, a+b)
}

// Sub returns a - b.
func (c *Calculator) Sub(ctx context.Context, a, b float64) (float64, error) {
	return c.computed(ctx, "sub", a, b, a-b)
}

// Mul returns a * b.
func (c *Calculator) Mul(ctx context.Context, a, b float64) (float64, error) {
	return c.computed(ctx, "mul", a, b, a*b)
}

// Div returns a / b; dividing by zero is an invalid_argument error.
func (c *Calculator) Div(ctx context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return c.computed(ctx, "div", a, b, a/b)
}

// Count streams 0, 1, ..., n-1.
func (c *Calculator) Count(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

func main() {
	socket := "unix://" + filepath.ToSlash(filepath.Join(os.TempDir(), "titan-calculator.sock"))
	titan.New(
		titan.WithConfigDefault("netron.listen", []string{
			"tcp://127.0.0.1:7070", socket, "ws://127.0.0.1:7080", "http://127.0.0.1:7080",
		}),
		titan.WithConfigAlias("calculator.listen", "netron.listen"),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.HTTP("/api/calculator"),
			// Argument names, for the contract and for errors
			// ("argument 2 (b): want a number, got a string").
			titan.Method("add", titan.Args("a", "b")),
			titan.Method("sub", titan.Args("a", "b")),
			titan.Method("mul", titan.Args("a", "b")),
			titan.Method("div", titan.Args("a", "b")),
			titan.Method("count", titan.Args("n")),
		),
	).Run()
}
