// Command calculator serves calculator@1.0.0 over Netron: add, sub, mul and
// div on two numbers, and count, a stream of the numbers 0..n-1.
//
//	go run ./examples/calculator
//	go run ./titan call tcp://127.0.0.1:7070 calculator@1.0.0 add 1 2
//	go run ./titan call unix:///tmp/titan-calculator.sock calculator@1.0.0 count 5
//	go run ./titan call ws://127.0.0.1:7080 calculator@1.0.0 mul 6 7
//	go run ./titan inspect tcp://127.0.0.1:7070
//
// It listens on tcp://127.0.0.1:7070, on a Unix socket in the temporary
// directory, and on ws:// and http:// at 127.0.0.1:7080 (one port);
// change them with --set calculator.listen=URL,URL (or
// TITAN_CALCULATOR__LISTEN). Over HTTP:
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

	"go.uber.org/fx"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// Config is the `calculator` configuration section.
type Config struct {
	// Listen lists the addresses the calculator serves on.
	Listen []string `json:"listen" jsonschema:"minItems=1,description=Addresses to serve on (URLs)"`
}

// Calculator is the service. Its exported methods with a context first are
// its public methods.
type Calculator struct {
	log *slog.Logger
}

// NewCalculator builds the service; the logger carries module=calculator.
func NewCalculator(log *slog.Logger) *Calculator { return &Calculator{log: log} }

// Add returns a + b.
func (c *Calculator) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

// Sub returns a - b.
func (c *Calculator) Sub(_ context.Context, a, b float64) (float64, error) { return a - b, nil }

// Mul returns a * b.
func (c *Calculator) Mul(_ context.Context, a, b float64) (float64, error) { return a * b, nil }

// Div returns a / b; dividing by zero is an invalid_argument error.
func (c *Calculator) Div(_ context.Context, a, b float64) (float64, error) {
	if b == 0 {
		return 0, netron.Errorf(netron.CodeInvalidArgument, "division by zero")
	}
	return a / b, nil
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

// listen serves on the addresses of the calculator section once the app
// starts.
func listen(lc fx.Lifecycle, cfg *config.Config, n *netron.Netron) error {
	c, err := config.Section[Config](cfg, "calculator")
	if err != nil {
		return err
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		for _, addr := range c.Listen {
			if _, err := n.Listen(ctx, addr); err != nil {
				return err
			}
		}
		return nil
	}))
	return nil
}

func main() {
	socket := "unix://" + filepath.ToSlash(filepath.Join(os.TempDir(), "titan-calculator.sock"))
	titan.New(
		titan.ConfigSection("calculator", Config{Listen: []string{
			"tcp://127.0.0.1:7070", socket, "ws://127.0.0.1:7080", "http://127.0.0.1:7080",
		}}),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.HTTP("/api/calculator")),
		titan.Invoke(listen),
	).Run()
}
