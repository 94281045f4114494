package netron_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// Instance answers which server it is.
type Instance struct{ name string }

func (n Instance) Who(context.Context) (string, error) { return n.name, nil }

// A Pool is titan.Remote without fx: a client over every instance the
// resolver gives, calls spread by the balancer.
func TestPool(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Cleanup(func() { _ = client.Stop(ctx) })
	tw := &twice{}
	pool := startPool(t, client, "counter@^1", resolverOf(addrs), netron.WithInterceptors(tw))
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

// watchOf is a WatchResolver: Resolve gives first, Watch yields what is
// sent on changes.
type watchOf struct {
	first   []string
	changes chan []string
}

func (w watchOf) Resolve(context.Context, netron.Target) ([]string, error) { return w.first, nil }

func (w watchOf) Watch(ctx context.Context, _ netron.Target) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for {
			select {
			case <-ctx.Done():
				return
			case addrs := <-w.changes:
				if !yield(addrs, nil) {
					return
				}
			}
		}
	}
}

// Start returns once an instance answers: one that accepts the
// connection but never answers the handshake (a process that hangs,
// whose entry lives until its TTL) does not hold it for the handshake
// timeout, and the calls go to the instance that answered.
func TestPoolStartNotHeldByASilentInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a")
	silent := transporttest.SilentAddr(t)
	client, err := netron.New(netron.Config{HandshakeTimeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(ctx) })
	start := time.Now()
	pool := startPool(t, client, "named@^1", watchOf{first: []string{silent, addrs[0]}, changes: make(chan []string)})
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Start took %v with an instance that answers and one that never does (handshake timeout 5s)", took)
	}
	var c struct {
		Who func(ctx context.Context) (string, error)
	}
	if err := pool.Bind(&c); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if who, err := c.Who(ctx); err != nil || who != "a" {
			t.Fatalf("a call after Start: %q, %v", who, err)
		}
	}
}

// An instance that leaves is passed over at once, whatever the pool is
// dialling meanwhile: an address that does not answer (a host that
// crashed, whose entry lives until its TTL) holds neither the resolver's
// changes nor the calls' choice.
func TestPoolRemovalNotHeldByADial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a", "b")
	silent := transporttest.SilentAddr(t)
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(ctx) })
	w := watchOf{first: addrs, changes: make(chan []string, 4)}
	pool := startPool(t, client, "named@^1", w)
	var c struct {
		Who func(ctx context.Context) (string, error)
	}
	if err := pool.Bind(&c); err != nil {
		t.Fatal(err)
	}
	waitAddrs := func(what string, want ...string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for !slices.Equal(pool.Addrs(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: Addrs = %v, want %v", what, pool.Addrs(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// An instance that does not answer arrives: the changes after it are
	// not held by its dial, nor by the dials again that follow.
	w.changes <- append(slices.Clone(addrs), silent)
	w.changes <- addrs[:1]
	waitAddrs("2 s after b left, while the pool dials an address that does not answer", addrs[0])
	time.Sleep(700 * time.Millisecond) // the pool dials it again (redial)
	w.changes <- []string{addrs[1], silent}
	waitAddrs("2 s after a left and b came back, while the pool dials again", addrs[1])
	for range 10 {
		who, err := c.Who(ctx)
		if err != nil || who != "b" {
			t.Fatalf("a call after a left: %q, %v", who, err)
		}
	}
}

// failingOnce is a watchOf whose second Resolve fails: the registry does
// not answer as the pool starts following it.
type failingOnce struct {
	watchOf
	n atomic.Int32
}

func (f *failingOnce) Resolve(ctx context.Context, t netron.Target) ([]string, error) {
	if f.n.Add(1) == 2 {
		return nil, netron.Errorf(netron.CodeUnavailable, "the registry does not answer")
	}
	return f.watchOf.Resolve(ctx, t)
}

// A pool follows a resolver of Resolvers even when it cannot be read as
// the watch starts: the watch tries again, instead of ending and leaving
// the pool with the instances it started with.
func TestPoolFollowsAfterAResolverError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a", "b")
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(ctx) })
	f := &failingOnce{watchOf: watchOf{first: addrs[:1], changes: make(chan []string, 1)}}
	pool := startPool(t, client, "named@^1", netron.Resolvers{f})
	f.changes <- addrs[1:]
	deadline := time.Now().Add(3 * time.Second)
	for !slices.Equal(pool.Addrs(), addrs[1:]) {
		if time.Now().After(deadline) {
			t.Fatalf("3 s after a left and b came: Addrs = %v, want %v (Resolve called %d times)", pool.Addrs(), addrs[1:], f.n.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startPool starts a pool of client's for target, resolved by r, closed
// with the test (before client stops, when client's stop is a cleanup
// registered earlier).
func startPool(t *testing.T, client *netron.Netron, target string, r netron.Resolver, opts ...netron.ClientOption) *netron.Pool {
	t.Helper()
	pool, err := client.NewPool(target, r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return pool
}
