package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

// Down answers every call unavailable.
type Down struct{}

func (Down) Get(context.Context) (int, error) {
	return 0, netron.Errorf(netron.CodeUnavailable, "down for maintenance")
}

// DownClient is a titan.Remote of down@1.0.0.
type DownClient struct {
	Get func(ctx context.Context) (int, error)
}

// The breakers of titan.CircuitBreaker are titan_breaker_state: open (2)
// once enough calls failed.
func TestResilienceBreakerState(t *testing.T) {
	server := startApp(t, "tcp://127.0.0.1:0", nil, titan.Service("down", "1.0.0", func() Down { return Down{} }))
	var c DownClient
	client := startApp(t, "tcp://127.0.0.1:0", nil,
		titan.Remote[DownClient]("down@1.0.0", titan.At(server.addrs["tcp"]),
			titan.Retry(titan.RetryConfig{Attempts: 1}),
			titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 2, Delay: time.Minute})),
		titan.Invoke(func(x DownClient) { c = x }))
	if got, ok := sample(scrape(t, client.admin+"/metrics"), "titan_breaker_state", map[string]string{"breaker": "down@1.0.0"}); ok {
		t.Fatalf("titan_breaker_state before any call = %v, want no series yet", got)
	}
	for range 3 {
		_, _ = c.Get(context.Background())
	}
	if got, ok := sample(scrape(t, client.admin+"/metrics"), "titan_breaker_state", map[string]string{"breaker": "down@1.0.0"}); !ok || got != 2 {
		t.Fatalf("titan_breaker_state{breaker=\"down@1.0.0\"} = %v (found %v), want 2 (open)", got, ok)
	}
}
