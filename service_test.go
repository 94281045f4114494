package titan_test

import (
	"context"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

type Calculator struct{ log *slog.Logger }

func NewCalculator(log *slog.Logger) *Calculator { return &Calculator{log: log} }

func (c *Calculator) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }

func (c *Calculator) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

type CalculatorClient struct {
	Add   func(ctx context.Context, a, b float64) (float64, error)
	Count func(ctx context.Context, n int) iter.Seq2[int, error]
}

// startApp starts an app and stops it when the test ends.
func startApp(t *testing.T, opts ...titan.Option) *titan.App {
	t.Helper()
	app := titan.New(opts...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := app.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return app
}

func TestServiceAndRemote(t *testing.T) {
	t.Parallel()
	var server *netron.Netron
	startApp(t,
		titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.Cache(0)),
		titan.Invoke(func(n *netron.Netron) { server = n }),
	)
	addrs := server.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "tcp://127.0.0.1:") {
		t.Fatalf("listening on %v", addrs)
	}

	tests := []struct {
		name string
		opts []titan.Option
	}{
		{"At", []titan.Option{titan.WithConfig(quiet()), titan.Remote[CalculatorClient]("calculator@^1", titan.At(addrs[0]))}},
		{"config", []titan.Option{titan.WithConfig(quiet("netron.remotes.calculator=" + addrs[0])), titan.Remote[CalculatorClient]("calculator@1.0.0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var client CalculatorClient
			startApp(t, append(tt.opts, titan.Invoke(func(c CalculatorClient) { client = c }))...)
			ctx := context.Background()
			if v, err := client.Add(ctx, 1, 2); err != nil || v != 3 {
				t.Fatalf("Add = %v, %v", v, err)
			}
			n := 0
			for v, err := range client.Count(ctx, 3) {
				if err != nil || v != n {
					t.Fatalf("Count item %d = %v, %v", n, v, err)
				}
				n++
			}
			if n != 3 {
				t.Fatalf("Count gave %d items", n)
			}
		})
	}
}

func TestServiceErrors(t *testing.T) {
	t.Parallel()
	type NoMethods struct{}
	tests := []struct {
		name string
		opts []titan.Option
		want string
	}{
		{"bad name", []titan.Option{titan.Service("calc.v1", "1.0.0", NewCalculator)}, "letters, digits"},
		{"bad version", []titan.Option{titan.Service("calculator", "1.0", NewCalculator)}, "semantic version"},
		{"no methods", []titan.Option{titan.Service("empty", "1.0.0", func() *NoMethods { return &NoMethods{} })}, "no public methods"},
		{"constructor returns nil", []titan.Option{titan.Service("calculator", "1.0.0", func() (*Calculator, error) { return nil, nil })},
			"the constructor returned a nil *titan_test.Calculator and no error"},
		{"nil value", []titan.Option{titan.Service("calculator", "1.0.0", (*Calculator)(nil))}, "the service is a nil *titan_test.Calculator"},
		{"unknown method option", []titan.Option{titan.Service("calculator", "1.0.0", NewCalculator, titan.Method("mul", titan.CacheTTL(1)))}, `Method("mul"): no such public method`},
		{"bad listen address", []titan.Option{titan.Listen("bogus://x")}, "bogus"},
		{"remote without address", []titan.Option{titan.Remote[CalculatorClient]("calculator@1.0.0", netron.WithConnectWait(100*time.Millisecond)), titan.Invoke(func(CalculatorClient) {})}, "netron.remotes.calculator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := titan.New(append([]titan.Option{titan.WithConfig(quiet())}, tt.opts...)...)
			err := app.Start(context.Background())
			if err == nil {
				app.Stop(context.Background())
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// titan.Interceptors reach the calls the app serves, in order.
func TestInterceptorsServe(t *testing.T) {
	t.Parallel()
	var (
		server *netron.Netron
		seen   []string
		mu     sync.Mutex
	)
	record := func(name string) netron.Interceptor {
		return netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
			return func(ctx context.Context, call *netron.Call) (any, error) {
				if !call.IsClient() {
					mu.Lock()
					seen = append(seen, name+":"+call.Method)
					mu.Unlock()
				}
				return next(ctx, call)
			}
		})
	}
	startApp(t,
		titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator),
		titan.Interceptors(record("outer"), record("inner")),
		titan.Invoke(func(n *netron.Netron) { server = n }),
	)
	p, err := netron.Dial(context.Background(), server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v, err := netron.CallUnary[float64](context.Background(), p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("add = %v, %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, " ") != "outer:add inner:add" {
		t.Fatalf("the interceptors saw %q; want outer:add inner:add", seen)
	}
}

// TestServiceTypeUsedTwice: two services of one Go type (two versions
// built by one constructor) fail start-up with an error that names both
// services, in a Module or not, instead of fx's "already provided".
func TestServiceTypeUsedTwice(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string][]titan.Option{
		"app": {titan.Service("calculator", "1.0.0", NewCalculator), titan.Service("calculator", "2.0.0", NewCalculator)},
		"module": {titan.Service("calculator", "1.0.0", NewCalculator),
			titan.Module("v2", titan.Service("calculator", "2.0.0", func() *Calculator { return &Calculator{} }))},
	} {
		t.Run(name, func(t *testing.T) {
			err := titan.New(append([]titan.Option{titan.WithConfig(quiet())}, opts...)...).Err()
			if err == nil {
				t.Fatal("built")
			}
			for _, want := range []string{`Service("calculator", "2.0.0"`, "*titan_test.Calculator", `Service("calculator", "1.0.0"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
