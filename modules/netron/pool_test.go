package netron_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
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
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a", "b")
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	resolver := netron.Resolvers{netron.StaticResolver{"other": "tcp://x:1"}, resolverOf(addrs)}
	pool, err := client.NewPool("named@^1", resolver, netron.WithBalancer(netron.RoundRobin))
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
	// The deprecated PoolOptions give the same options, with the same errors.
	const want = `Balancer("fastest"): want round-robin, random, least-pending or power-of-two`
	_, errOld := client.NewPool("named", resolver, netron.PoolOptions{Balancer: "fastest"})
	_, errNew := client.NewPool("named", resolver, netron.WithBalancer("fastest"))
	if errNew == nil || !strings.Contains(errNew.Error(), want) || fmt.Sprint(errOld) != errNew.Error() {
		t.Fatalf("an unknown balancer: %v; with PoolOptions: %v; want %s", errNew, errOld, want)
	}
}

// resolverOf resolves every target to addrs.
type resolverOf []string

func (r resolverOf) Resolve(context.Context, netron.Target) ([]string, error) { return r, nil }

// Counter answers which server it is and counts up to n, as a stream.
type Counter struct{ name string }

func (c Counter) Who(context.Context) (string, error) { return c.name, nil }

func (c Counter) Count(_ context.Context, n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("%s%d", c.name, i), nil) {
				return
			}
		}
	}
}

// twice is an interceptor that runs each call it wraps two times and keeps
// the second outcome, noting the instance each run went to: what a retry
// does, with the failure left out.
type twice struct {
	mu   sync.Mutex
	seen []string // "peer before: peer after" per run
}

func (tw *twice) note(before, after *netron.Peer) {
	name := func(p *netron.Peer) string {
		if p == nil {
			return "nil"
		}
		return p.RemoteAddr()
	}
	tw.mu.Lock()
	tw.seen = append(tw.seen, name(before)+">"+name(after))
	tw.mu.Unlock()
}

func (tw *twice) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() {
			panic("a pool's interceptor saw a served call")
		}
		before := call.Peer
		if _, err := next(ctx, call); err != nil {
			return nil, err
		}
		tw.note(before, call.Peer)
		before = call.Peer
		res, err := next(ctx, call)
		tw.note(before, call.Peer)
		return res, err
	}
}

func (tw *twice) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

func (tw *twice) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		before := call.Peer
		s, err := next(ctx, call)
		tw.note(before, call.Peer)
		return s, err
	}
}

// A pool's interceptors run once per call around the choice of instance:
// they see the call before an instance is picked (Peer nil), and each run
// of what they wrap goes to the instance the balancer picks then — the
// pool's failover, when the interceptor is a retry. Unary calls, void
// calls and streams, through Bind and through Call and OpenStream, take
// that path; the Netron's own interceptors run once per instance called.
func TestPoolInterceptors(t *testing.T) {
	ctx := context.Background()
	addrs := serveEach(t, "counter", func(name string) any { return Counter{name} }, "a", "b")
	var engineCalls atomic.Int64
	client, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			if call.IsClient() {
				if call.Peer == nil {
					t.Error("the Netron's interceptor saw a pool's call without its instance")
				}
				engineCalls.Add(1)
			}
			return next(ctx, call)
		}
	})))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	tw := &twice{}
	pool, err := client.NewPool("counter@^1", resolverOf(addrs), netron.WithInterceptors(tw))
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var c struct {
		Who   func(ctx context.Context) (string, error)
		Count func(ctx context.Context, n int) iter.Seq2[string, error]
	}
	if err := pool.Bind(&c); err != nil {
		t.Fatal(err)
	}
	if err := pool.Check(ctx, &c); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Who(ctx); err != nil {
		t.Fatal(err)
	}
	if len(tw.seen) != 2 || !strings.HasPrefix(tw.seen[0], "nil>") || strings.Split(tw.seen[0], ">")[1] == strings.Split(tw.seen[1], ">")[1] {
		t.Fatalf("runs of one call: %v; want the first from no instance, the second on the other instance", tw.seen)
	}
	if engineCalls.Load() != 2 {
		t.Fatalf("the Netron's interceptor saw %d calls, want 2 (one per run)", engineCalls.Load())
	}
	r, err := pool.Call(ctx, "who")
	if err != nil {
		t.Fatal(err)
	}
	var who string
	if err := r.Decode(&who); err != nil || who != "a" && who != "b" {
		t.Fatalf("Pool.Call: %q, %v", who, err)
	}
	if len(tw.seen) != 4 {
		t.Fatalf("Pool.Call went through the pool's interceptor %d times, want once (2 runs)", len(tw.seen)-2)
	}

	var items []string
	for v, err := range c.Count(ctx, 3) {
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, v)
	}
	if len(items) != 3 || items[0][1:] != "0" || items[2][1:] != "2" {
		t.Fatalf("a bound stream gave %v", items)
	}
	if got := tw.seen[len(tw.seen)-1]; !strings.HasPrefix(got, "nil>tcp") {
		t.Fatalf("a stream's run: %s; want it picked inside the pool's interceptor", got)
	}
	s, err := pool.OpenStream(ctx, "count", 2)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range netron.All[string](s) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("Pool.OpenStream gave %d items, want 2", n)
	}
}

// serveEach serves service@1.0.0 on a Netron of its own per name, impl
// giving each its implementation, over tcp://, until the test ends, and
// returns their addresses.
func serveEach(t *testing.T, service string, impl func(name string) any, names ...string) []string {
	t.Helper()
	var addrs []string
	for _, name := range names {
		s, err := netron.New(netron.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Stop(context.Background()) })
		if err := s.Register(service, "1.0.0", impl(name)); err != nil {
			t.Fatal(err)
		}
		addr, err := s.Listen(context.Background(), "tcp://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, addr)
	}
	return addrs
}
