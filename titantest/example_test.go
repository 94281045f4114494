package titantest_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/ratelimit"
	"github.com/titanframework/titan/titantest"
)

// t stands for the *testing.T of the test function that the examples
// without output are written in.
var t *testing.T

// An app started in a test, called over mem:// and over TCP; it stops
// when the test ends.
func ExampleStartApp() {
	app := titantest.StartApp(t,
		titantest.WithSettings("netron.listen=tcp://127.0.0.1:0"),
		titan.Service("shop", "1.0.0", NewShop),
	)
	for _, p := range []*netron.Peer{app.Dial(t), titantest.Dial(t, app.Addr(t, "tcp"))} {
		got, err := netron.CallUnary[Price](t.Context(), p, "shop@^1", "price", PriceRequest{Item: "tea"})
		if err != nil || got.Cents != 300 {
			t.Fatalf("price tea = %+v, %v", got, err)
		}
	}
}

// A cached result expires when the fake clock has moved on by its TTL.
func ExampleClock_cache() {
	clk := titantest.NewClock(time.Time{})
	app := titantest.StartApp(t,
		titan.WithClock(clk.Now),
		titan.Service("shop", "1.0.0", NewShop, titan.Cache(time.Hour)),
	)
	p := app.Dial(t)
	price := func() (Price, error) {
		return netron.CallUnary[Price](t.Context(), p, "shop@^1", "price", PriceRequest{Item: "tea"})
	}
	_, _ = price() // runs the method
	_, _ = price() // from the cache
	clk.Advance(time.Hour)
	_, _ = price() // runs the method again: the result had expired
}

// A rate limit of 2 calls a minute, driven by the fake clock: the window
// slides, so the calls of the last minute weigh on the next one too.
func ExampleClock() {
	clk := titantest.NewClock(time.Time{})
	limiter := ratelimit.NewLocal(ratelimit.LocalOptions{Now: clk.Now})
	allow := func() bool {
		d, _ := limiter.Allow(context.Background(), "ada", 2, time.Minute)
		return d.Allowed
	}
	fmt.Println(allow(), allow(), allow())
	clk.Advance(time.Minute)
	fmt.Println(allow())
	clk.Advance(time.Minute)
	fmt.Println(allow())
	// Output:
	// true true false
	// false
	// true
}

// Goroutines left running by the test fail it.
func ExampleVerifyNoLeaks() {
	titantest.VerifyNoLeaks(t) // first, so that its check runs last
	app := titantest.StartApp(t, titan.Service("shop", "1.0.0", NewShop))
	_ = app.Dial(t)
}

// NewShop builds the shop of the examples.
func NewShop(log *slog.Logger) *Shop { return &Shop{log: log, runs: new(atomic.Int64)} }
