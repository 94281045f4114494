package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// Instance answers which server it is.
type Instance struct{ name string }

func (n Instance) Who(context.Context) (string, error) { return n.name, nil }

// A Pool is titan.Remote without fx: a client over every instance the
// resolver gives, calls spread by the balancer.
func TestPool(t *testing.T) {
	ctx := context.Background()
	var addrs []string
	for _, name := range []string{"a", "b"} {
		s, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		if err := s.Register("named", "1.0.0", Instance{name}); err != nil {
			t.Fatal(err)
		}
		addr, err := s.Listen(ctx, "tcp://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, addr)
	}
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	resolver := netron.Resolvers{netron.StaticResolver{"other": "tcp://x:1"}, resolverOf(addrs)}
	pool, err := client.NewPool("named@^1", resolver, netron.PoolOptions{Balancer: netron.RoundRobin})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Who func(ctx context.Context) (string, error)
	}
	if err := pool.Bind(&c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Who(ctx); netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "no instance is connected") {
		t.Fatalf("a call before Start: %v", err)
	}
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := pool.Check(ctx, &c); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for range 100 {
		who, err := c.Who(ctx)
		if err != nil {
			t.Fatal(err)
		}
		counts[who]++
	}
	if counts["a"] != 50 || counts["b"] != 50 {
		t.Fatalf("round-robin over two instances gave %v", counts)
	}
	if got := pool.Addrs(); len(got) != 2 {
		t.Fatalf("Addrs = %v", got)
	}
	if _, err := client.NewPool("named", resolver, netron.PoolOptions{Balancer: "fastest"}); err == nil || !strings.Contains(err.Error(), `balancer "fastest"`) {
		t.Fatalf("an unknown balancer: %v", err)
	}
}

// resolverOf resolves every target to addrs.
type resolverOf []string

func (r resolverOf) Resolve(context.Context, netron.Target) ([]string, error) { return r, nil }
