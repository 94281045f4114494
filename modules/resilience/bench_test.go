package resilience_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// What the policies cost a call that succeeds: a pool over one instance,
// bare and with titan.Remote's default chain plus a breaker and bulkhead.
func BenchmarkPoolCall(b *testing.B) {
	ctx := context.Background()
	server, err := netron.New(netron.Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer server.Stop(ctx)
	if err := server.Register("flaky", "1.0.0", &Flaky{name: "flaky"}); err != nil {
		b.Fatal(err)
	}
	addr, err := server.Listen(ctx, "mem://resilience-bench")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		ics  []netron.Interceptor
	}{
		{"bare", nil},
		{"policies", resilience.Policies{
			Retry:          &resilience.RetryConfig{},
			Bulkhead:       &resilience.BulkheadConfig{Max: 64},
			CircuitBreaker: &resilience.CircuitBreakerConfig{},
		}.Interceptors("flaky@^1", resilience.ChainOptions{Idempotent: func(*netron.Call) bool { return true }})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client, err := netron.New(netron.Config{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer client.Stop(ctx)
			pool, err := client.NewPool("flaky@^1", resolverOf{addr}, netron.WithInterceptors(bc.ics...))
			if err != nil {
				b.Fatal(err)
			}
			var c struct {
				Get func(ctx context.Context, key string) (string, error)
			}
			if err := pool.Bind(&c); err != nil {
				b.Fatal(err)
			}
			if err := pool.Start(ctx); err != nil {
				b.Fatal(err)
			}
			defer pool.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
