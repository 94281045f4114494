package resilience_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// Down is a service whose remote is unwell.
type Down struct{}

func (Down) Get(context.Context) (string, error) {
	return "", netron.Errorf(netron.CodeUnavailable, "down")
}

// A circuit breaker on a peer of its own: after 2 failures in a row it
// opens, and the next call fails at once without being sent.
func ExampleCircuitBreaker() {
	ctx := context.Background()
	server, _ := netron.New(netron.Config{}, nil)
	defer server.Stop(ctx)
	_ = server.Register("down", "1.0.0", Down{})
	addr, _ := server.Listen(ctx, "mem://resilience-example")

	breaker := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{
		Name: "down", Failures: 2, Delay: time.Minute,
		OnStateChange: func(c resilience.StateChange) { fmt.Println("breaker", c.Breaker, c.From, "->", c.To) },
	})
	p, err := netron.Dial(ctx, addr, netron.WithInterceptors(breaker))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	for range 3 {
		_, err := p.Call(ctx, "down@^1", "get")
		msg, _, _ := strings.Cut(err.Error(), "; retry after") // the time left varies
		fmt.Println(msg)
	}
	// Output:
	// unavailable: down
	// breaker down closed -> open
	// unavailable: down
	// unavailable: circuit breaker "down" is open: down@^1.get not sent
}
