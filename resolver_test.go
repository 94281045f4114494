package titan_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/linked"
	"github.com/titanframework/titan/modules/netron"
)

// listResolver answers every target with its addresses and records what
// it was asked.
type listResolver struct {
	addrs []string
	mu    sync.Mutex
	asked []string
}

func (r *listResolver) Resolve(_ context.Context, t netron.Target) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, t.String())
	return r.addrs, nil
}

// TestRemoteAsksTheResolver: without titan.At, titan.Remote takes its
// addresses from the app's netron.Resolver, which a module may replace
// (as discovery will), and dials the first instance that answers.
func TestRemoteAsksTheResolver(t *testing.T) {
	t.Parallel()
	var server *netron.Netron
	startApp(t,
		titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator),
		titan.Invoke(func(n *netron.Netron) { server = n }),
	)
	r := &listResolver{addrs: []string{"tcp://127.0.0.1:1", server.Addrs()[0]}} // the first is dead
	var calc CalculatorClient
	startApp(t,
		titan.WithConfig(quiet()),
		titan.Decorate(func(netron.Resolver) netron.Resolver { return r }),
		titan.Remote[CalculatorClient]("calculator@^1"),
		titan.Invoke(func(c CalculatorClient) { calc = c }),
	)
	if v, err := calc.Add(context.Background(), 2, 3); err != nil || v != 5 {
		t.Fatalf("add through the resolver's second address: %v, %v", v, err)
	}
	if len(r.asked) != 1 || r.asked[0] != "calculator@^1" {
		t.Fatalf("the resolver was asked %v, want calculator@^1 once", r.asked)
	}

	// Every address dead: start-up fails naming each.
	r2 := &listResolver{addrs: []string{"tcp://127.0.0.1:1", "unix:///nonexistent/titan.sock"}}
	app := titan.New(
		titan.WithConfig(quiet()),
		titan.Decorate(func(netron.Resolver) netron.Resolver { return r2 }),
		titan.Remote[CalculatorClient]("calculator@^1"),
		titan.Invoke(func(CalculatorClient) {}),
	)
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with no reachable instance")
	}
	for _, want := range []string{"127.0.0.1:1", "/nonexistent/titan.sock"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("start-up error %q does not name %s", err, want)
		}
	}
}

// TestStaticResolver: netron.remotes resolves by service name, and a miss
// says which key to set and what the table has.
func TestStaticResolver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := netron.StaticResolver{"users": "tcp://10.0.0.5:7070", "billing": "ws://b:7080"}
	target, _ := netron.ParseTarget("users@^2")
	if got, err := r.Resolve(ctx, target); err != nil || len(got) != 1 || got[0] != "tcp://10.0.0.5:7070" {
		t.Fatalf("users@^2: %v, %v", got, err)
	}
	target, _ = netron.ParseTarget("orders")
	_, err := r.Resolve(ctx, target)
	if want := "no address for service orders: netron.remotes.orders is not set (netron.remotes has: billing, users)"; netron.CodeOf(err) != netron.CodeNotFound || !strings.Contains(err.Error(), want) {
		t.Fatalf("orders: %v, want not_found %q", err, want)
	}
	_, err = netron.StaticResolver(nil).Resolve(ctx, target)
	if want := "netron.remotes is empty (set netron.remotes.orders)"; !strings.Contains(err.Error(), want) {
		t.Fatalf("empty table: %v, want %q", err, want)
	}
}

// A policy recorded on a service whose enforcing module the program does
// not link fails start-up naming the import, instead of being ignored.
func TestPolicyWithoutItsModule(t *testing.T) {
	t.Parallel()
	policy := netron.WithExtension("Auth", "test.auth", "admin", func(any) error {
		return linked.Require("titan.security", "github.com/titanframework/titan/modules/security")
	})
	err := titan.New(titan.WithConfig(quiet()), titan.Service("calculator", "1.0.0", NewCalculator, policy)).Err()
	want := `service calculator@1.0.0: Auth("admin"): it is enforced by the titan.security module, which this program does not link: add import _ "github.com/titanframework/titan/modules/security"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("start-up error: %v\nwant it to contain %s", err, want)
	}
}

// Resolvers asks each in turn: the first with addresses answers, a
// not_found moves on, another error stops, and a miss everywhere says
// what each looked at.
func TestResolvers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	target, _ := netron.ParseTarget("users@^1")
	static := netron.StaticResolver{"orders": "tcp://o:1"}
	list := &listResolver{addrs: []string{"tcp://u:1", "tcp://u:2"}}
	if got, err := (netron.Resolvers{static, list}).Resolve(ctx, target); err != nil || len(got) != 2 {
		t.Fatalf("fall through to the second: %v, %v", got, err)
	}
	if got, err := (netron.Resolvers{netron.StaticResolver{"users": "tcp://s:1"}, list}).Resolve(ctx, target); err != nil || len(got) != 1 || got[0] != "tcp://s:1" {
		t.Fatalf("the first wins: %v, %v", got, err)
	}
	down := resolverFunc(func(context.Context, netron.Target) ([]string, error) {
		return nil, netron.Errorf(netron.CodeUnavailable, "registry down")
	})
	if _, err := (netron.Resolvers{static, down, list}).Resolve(ctx, target); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("an unavailable resolver: %v", err)
	}
	_, err := (netron.Resolvers{static, netron.StaticResolver{}}).Resolve(ctx, target)
	if want := "not_found: no address for service users: netron.remotes.users is not set (netron.remotes has: orders); no address for service users: netron.remotes is empty (set netron.remotes.users)"; err == nil || err.Error() != want {
		t.Fatalf("a miss everywhere: %v\nwant %s", err, want)
	}
}

type resolverFunc func(context.Context, netron.Target) ([]string, error)

func (f resolverFunc) Resolve(ctx context.Context, t netron.Target) ([]string, error) {
	return f(ctx, t)
}
