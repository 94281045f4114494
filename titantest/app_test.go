package titantest_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats" // nats://
	"github.com/titanframework/titan/modules/netron/nats/embedded"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
	_ "github.com/titanframework/titan/modules/security" // titan.RateLimit
	"github.com/titanframework/titan/titantest"
)

func TestMain(m *testing.M) { titantest.VerifyTestMain(m) }

// Shop is the service of the app tests: a struct argument, a struct
// result, a stream, and a count of the runs of price.
type Shop struct {
	log  *slog.Logger
	runs *atomic.Int64
}

// PriceRequest is the argument of price.
type PriceRequest struct {
	Item string `json:"item" jsonschema:"minLength=1"`
}

// Price is the result of price.
type Price struct {
	Item  string `json:"item"`
	Cents int    `json:"cents"`
}

func (s *Shop) Price(_ context.Context, req PriceRequest) (Price, error) {
	s.runs.Add(1)
	s.log.Info("price", "item", req.Item)
	return Price{Item: req.Item, Cents: 100 * len(req.Item)}, nil
}

func (s *Shop) Stock(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if ctx.Err() != nil || !yield(i, nil) {
				return
			}
		}
	}
}

// shop returns the option of shop@1.0.0, built through the app's
// injection (it takes the app's logger), counting the runs of price in
// runs.
func shop(runs *atomic.Int64, opts ...titan.ServiceOption) titan.Option {
	return titan.Service("shop", "1.0.0", func(log *slog.Logger) *Shop { return &Shop{log: log, runs: runs} }, opts...)
}

func price(t *testing.T, p *netron.Peer, item string) (Price, error) {
	t.Helper()
	return netron.CallUnary[Price](t.Context(), p, "shop@^1", "price", PriceRequest{Item: item})
}

// TestStartApp: an app of titan options serves over mem:// and over the
// transports its settings name, with contracts enforced.
func TestStartApp(t *testing.T) {
	var runs atomic.Int64
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=tcp://127.0.0.1:0"), shop(&runs))
	if got := app.Addr(t, "mem"); !strings.HasPrefix(got, "mem://") {
		t.Fatalf(`Addr("mem") = %q`, got)
	}
	tcp := app.Addr(t, "tcp")
	if !strings.HasPrefix(tcp, "tcp://127.0.0.1:") || len(app.Addrs()) != 2 {
		t.Fatalf("listening on %v, want a mem:// and a tcp:// address", app.Addrs())
	}
	for name, p := range map[string]*netron.Peer{"mem": app.Dial(t), "tcp": titantest.Dial(t, tcp)} {
		got, err := price(t, p, "tea")
		if err != nil || got != (Price{"tea", 300}) {
			t.Fatalf("%s: price tea = %+v, %v", name, got, err)
		}
		if _, err := price(t, p, ""); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("%s: price of no item: %v, want invalid_argument from the contract", name, err)
		}
		var items []int
		for i, err := range netron.CallStream[int](t.Context(), p, "shop@^1", "stock", 3) {
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, i)
		}
		if len(items) != 3 || items[2] != 2 {
			t.Fatalf("%s: stock 3 = %v", name, items)
		}
	}
	if app.Netron() == nil || app.Config() == nil {
		t.Fatal("the app has no Netron or configuration")
	}
}

// TestStartAppIgnoresTheMachine: TITAN_ variables and a titan.yaml in the
// working directory do not reach a test app.
func TestStartAppIgnoresTheMachine(t *testing.T) {
	t.Setenv("TITAN_NETRON__LISTEN", "tcp://127.0.0.1:1")
	t.Chdir(t.TempDir())
	app := titantest.StartApp(t)
	if addrs := app.Addrs(); len(addrs) != 1 || !strings.HasPrefix(addrs[0], "mem://") {
		t.Fatalf("listening on %v, want only mem://", addrs)
	}
}

// recorder is a testing.TB that records failures and cleanups instead
// of acting on them, for checking the helpers' own failures. Fatal ends
// the goroutine, as testing's does.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()    {}
func (r *recorder) Log(...any) {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// run calls f with r in a goroutine of its own (Fatalf ends it), then
// r's cleanups in reverse order, and returns the failures.
func (r *recorder) run(f func(testing.TB)) []string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r.errs
}

// TestStartAppFailure: an app that cannot start fails the test with the
// app's own message, and what had started is stopped.
func TestStartAppFailure(t *testing.T) {
	r := &recorder{TB: t}
	errs := r.run(func(tb testing.TB) {
		titantest.StartApp(tb, titan.Provide(func() (*Shop, error) { return nil, errors.New("no database") }),
			titan.Invoke(func(*Shop) {}))
		t.Error("StartApp returned")
	})
	if len(errs) != 1 || !strings.Contains(errs[0], "the app did not start") || !strings.Contains(errs[0], "no database") {
		t.Fatalf("failures %q, want one naming the constructor's error", errs)
	}
}

// TestAddrOfNoSuchScheme: asking for a scheme the app does not listen on
// fails the test and says where it listens.
func TestAddrOfNoSuchScheme(t *testing.T) {
	app := titantest.StartApp(t)
	r := &recorder{TB: t}
	errs := r.run(func(tb testing.TB) { app.Addr(tb, "http") })
	if len(errs) != 1 || !strings.Contains(errs[0], "no http:// address") || !strings.Contains(errs[0], "mem://") {
		t.Fatalf("failures %q", errs)
	}
}

// TestClockExpiresCachedResults: with the fake clock, a result of
// titan.Cache lives for its TTL on that clock.
func TestClockExpiresCachedResults(t *testing.T) {
	clk := titantest.NewClock(time.Time{})
	var runs atomic.Int64
	app := titantest.StartApp(t, titan.WithClock(clk.Now), shop(&runs, titan.Cache(time.Hour)))
	p := app.Dial(t)
	for range 3 {
		if _, err := price(t, p, "tea"); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour - time.Second)
	if _, err := price(t, p, "tea"); err != nil || runs.Load() != 1 {
		t.Fatalf("within the hour: %d runs (%v), want 1", runs.Load(), err)
	}
	clk.Advance(time.Second)
	if _, err := price(t, p, "tea"); err != nil || runs.Load() != 2 {
		t.Fatalf("after an hour on the fake clock: %d runs (%v), want 2", runs.Load(), err)
	}
}

// TestClockSlidesRateLimits: with the fake clock, titan.RateLimit's
// window slides when the clock moves, not before.
func TestClockSlidesRateLimits(t *testing.T) {
	clk := titantest.NewClock(time.Time{})
	var runs atomic.Int64
	app := titantest.StartApp(t, titan.WithClock(clk.Now), shop(&runs, titan.RateLimit(2, time.Minute)))
	p := app.Dial(t)
	for i := range 2 {
		if _, err := price(t, p, "tea"); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if _, err := price(t, p, "tea"); netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("third call within the minute: %v, want resource_exhausted", err)
	}
	clk.Advance(2 * time.Minute)
	if _, err := price(t, p, "tea"); err != nil {
		t.Fatalf("after two minutes on the fake clock: %v", err)
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	clk := titantest.NewClock(start)
	if !clk.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", clk.Now(), start)
	}
	if got := clk.Advance(90 * time.Second); !got.Equal(start.Add(90*time.Second)) || !clk.Now().Equal(got) {
		t.Fatalf("Advance = %v, Now = %v", got, clk.Now())
	}
	clk.Advance(-90 * time.Second)
	if !clk.Now().Equal(start) {
		t.Fatalf("back: Now = %v", clk.Now())
	}
	if z := titantest.NewClock(time.Time{}).Now(); !z.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a zero start reads %v, want 2026-01-01 UTC as documented", z)
	}
}

// TestVerifyNoLeaksCatchesALeak: a goroutine started during the test and
// still running at its end fails it, named in the failure.
func TestVerifyNoLeaksCatchesALeak(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	r := &recorder{TB: t}
	errs := r.run(func(tb testing.TB) {
		titantest.VerifyNoLeaks(tb)
		go leaky(release)
	})
	if len(errs) != 1 || !strings.Contains(errs[0], "goroutines left running") || !strings.Contains(errs[0], "leaky") {
		t.Fatalf("failures %q, want one naming the leaking function", errs)
	}
}

func leaky(release chan struct{}) { <-release }

// TestAppLeavesNothing: an app serving over several transports, with
// peers connected, leaves no goroutine behind once stopped.
func TestAppLeavesNothing(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	var runs atomic.Int64
	app := titantest.StartApp(t, titantest.WithSettings("netron.listen=tcp://127.0.0.1:0,ws://127.0.0.1:0,http://127.0.0.1:0"),
		shop(&runs, titan.Cache(time.Minute), titan.RateLimit(100, time.Minute)))
	for _, scheme := range []string{"mem", "tcp", "ws", "http"} {
		if _, err := price(t, titantest.Dial(t, app.Addr(t, scheme)), "tea"); err != nil {
			t.Fatalf("%s: %v", scheme, err)
		}
	}
}

// TestAppOverNATSLeavesNothing: the same over nats://, against a NATS
// server in the process.
func TestAppOverNATSLeavesNothing(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	var runs atomic.Int64
	app := titantest.StartApp(t, titan.Listen(srv.URL()), shop(&runs))
	if _, err := price(t, titantest.Dial(t, app.Addr(t, "nats")), "tea"); err != nil {
		t.Fatal(err)
	}
}
