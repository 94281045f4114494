package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/protocol"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type ctxKey struct{}

// Calc counts the runs of its methods.
type Calc struct{ runs *atomic.Int64 }

func (c Calc) Add(_ context.Context, a, b int) (int, error) {
	c.runs.Add(1)
	return a + b, nil
}

func (c Calc) Div(_ context.Context, a, b int) (int, error) {
	c.runs.Add(1)
	if b == 0 {
		return 0, errors.New("division by zero")
	}
	return a / b, nil
}

func (c Calc) Sub(_ context.Context, a, b int) (int, error) {
	c.runs.Add(1)
	return a - b, nil
}

// Item holds a reference, its Tags: a result that is kept encoded.
type Item struct {
	SKU   string   `json:"sku"`
	Tags  []string `json:"tags"`
	Price int      `json:"price"`
}

// Catalog's methods return values that hold references, made afresh by
// each run, which it counts.
type Catalog struct{ runs *atomic.Int64 }

func (c Catalog) Prices(_ context.Context, sku string) (map[string]int, error) {
	c.runs.Add(1)
	return map[string]int{sku: 100}, nil
}

func (c Catalog) Items(_ context.Context, n int) ([]Item, error) {
	c.runs.Add(1)
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{SKU: fmt.Sprintf("sku-%d", i), Tags: []string{"new"}, Price: 100 + i}
	}
	return items, nil
}

func (c Catalog) Item(_ context.Context, sku string) (*Item, error) {
	c.runs.Add(1)
	return &Item{SKU: sku, Tags: []string{"new"}, Price: 100}, nil
}

func (c Catalog) Size(_ context.Context, doc string) (int, error) {
	c.runs.Add(1)
	return len(doc), nil
}

// newNetron returns a Netron served through c, with Calc registered as
// calc@1.0.0 (add and div cached for a minute) and other@1.0.0 (all
// cached), and Catalog as catalog@1.0.0 (all cached). A call's identity
// is the caller its context carries (see asCaller).
func newNetron(tb testing.TB, c *cache.Cache, runs *atomic.Int64) *netron.Netron {
	tb.Helper()
	identity := func(ctx context.Context) string { s, _ := ctx.Value(ctxKey{}).(string); return s }
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(c), netron.WithIdentity(identity))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("calc", "1.0.0", Calc{runs}, netron.WithMethod("add", netron.WithCacheTTL(time.Minute)),
		netron.WithMethod("div", netron.WithCacheTTL(time.Minute))); err != nil {
		tb.Fatal(err)
	}
	if err := n.Register("other", "1.0.0", Calc{runs}, netron.WithCache(time.Minute)); err != nil {
		tb.Fatal(err)
	}
	if err := n.Register("catalog", "1.0.0", Catalog{runs}, netron.WithCache(time.Minute)); err != nil {
		tb.Fatal(err)
	}
	return n
}

// cachedNetron returns a Netron with c as its interceptor, serving svc as
// name@1.0.0 with every method cached for a minute, stopped when the test
// ends.
func cachedNetron(tb testing.TB, c *cache.Cache, name string, svc any) *netron.Netron {
	tb.Helper()
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(c))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register(name, "1.0.0", svc, netron.WithCache(time.Minute)); err != nil {
		tb.Fatal(err)
	}
	return n
}

// invocation returns a call of method of service with args encoded.
func invocation(tb testing.TB, service, method string, args ...any) *netron.Invocation {
	tb.Helper()
	raw := make([]protocol.RawValue, len(args))
	for i, a := range args {
		b, err := protocol.AppendValue(nil, a)
		if err != nil {
			tb.Fatal(err)
		}
		raw[i] = b
	}
	return &netron.Invocation{Service: service, Method: method, Args: raw}
}

// asCaller returns a context whose calls are made by caller.
func asCaller(caller string) context.Context {
	return context.WithValue(context.Background(), ctxKey{}, caller)
}

// serve serves newNetron's services through c and returns a function that
// calls a method in process as caller.
func serve(tb testing.TB, c *cache.Cache, runs *atomic.Int64) func(caller, service, method string, args ...any) (any, error) {
	tb.Helper()
	n := newNetron(tb, c, runs)
	return func(caller, service, method string, args ...any) (any, error) {
		return n.Invoke(asCaller(caller), invocation(tb, service, method, args...))
	}
}

func TestCache(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	call := serve(t, c, &runs)
	want := func(step string, n int64) {
		t.Helper()
		if got := runs.Swap(0); got != n {
			t.Fatalf("%s: the method ran %d times, want %d", step, got, n)
		}
	}

	for range 3 {
		if v, err := call("ada", "calc@1.0.0", "add", 1, 2); err != nil || v != 3 {
			t.Fatalf("add(1, 2) = %v, %v", v, err)
		}
	}
	want("the same call three times", 1)
	if _, err := call("ada", "calc@1.0.0", "add", 2, 1); err != nil {
		t.Fatal(err)
	}
	want("other arguments", 1)
	if _, err := call("bob", "calc@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	want("another caller", 1)
	if _, err := call("ada", "calc@1.0.0", "sub", 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := call("ada", "calc@1.0.0", "sub", 1, 2); err != nil {
		t.Fatal(err)
	}
	want("a method without a TTL", 2)
	for range 2 {
		if _, err := call("ada", "calc@1.0.0", "div", 1, 0); err == nil {
			t.Fatal("div(1, 0) succeeded")
		}
	}
	want("an error is not kept", 2)

	// calc: add(1,2) for ada and bob, add(2,1); other: add(1,2).
	if _, err := call("ada", "other@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	want("another service", 1)
	if got := c.Invalidate("nothing*"); got != 0 {
		t.Fatalf(`Invalidate("nothing*") = %d, want 0`, got)
	}
	if got := c.Invalidate("oth*"); got != 1 {
		t.Fatalf(`Invalidate("oth*") = %d, want 1 (other@1.0.0's add)`, got)
	}
	if got := c.Invalidate("calc@1.0.0"); got != 3 {
		t.Fatalf(`Invalidate("calc@1.0.0") = %d, want 3`, got)
	}
	if _, err := call("ada", "calc@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	want("after Invalidate", 1)
	if got := c.Invalidate(""); got != 1 {
		t.Fatalf(`Invalidate("") = %d, want 1`, got)
	}
}

// The invalidate_cache task reaches the cache through the Netron's
// interceptors (netron.CacheInvalidator).
func TestInvalidateTask(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	n := cachedNetron(t, c, "calc", Calc{&runs})
	addr, err := n.Listen(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	p, err := netron.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for range 2 {
		if _, err := netron.CallUnary[int](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("add ran %d times, want 1", runs.Load())
	}
	var removed int
	if err := p.Task(ctx, &removed, netron.TaskInvalidateCache, "calc"); err != nil || removed != 1 {
		t.Fatalf("invalidate_cache(calc) = %d, %v, want 1", removed, err)
	}
	if _, err := netron.CallUnary[int](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 2 {
		t.Fatalf("add ran %d times after invalidation, want 2", runs.Load())
	}
}

// Stats counts the calls of cacheable methods served from the cache and
// those that ran the method; other methods are not counted. Bytes counts
// what the results held take, and nothing once they are gone.
func TestStats(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	call := serve(t, c, &runs)
	if got := c.Stats(); got != (cache.Stats{}) {
		t.Fatalf("Stats of a new cache = %+v, want zero", got)
	}
	for range 3 {
		if _, err := call("ada", "calc@1.0.0", "add", 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := call("ada", "calc@1.0.0", "sub", 1, 2); err != nil { // no TTL
		t.Fatal(err)
	}
	if _, err := call("ada", "calc@1.0.0", "div", 1, 0); err == nil { // an error: not kept
		t.Fatal("div(1, 0) succeeded")
	}
	got := c.Stats()
	if want := (cache.Stats{Hits: 2, Misses: 2, Entries: 1, Bytes: got.Bytes}); got != want || got.Bytes <= 0 {
		t.Fatalf("Stats = %+v, want %+v with Bytes above zero", got, want)
	}
	c.Invalidate("")
	if got := c.Stats(); got.Entries != 0 || got.Bytes != 0 {
		t.Fatalf("Stats after Invalidate(\"\") = %+v, want no entries and no bytes", got)
	}
}

// fakeClock is a clock a test moves on by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestClockDrivesExpiry: with WithClock, a result lives for its TTL on
// that clock and no longer, whatever the system clock does.
func TestClockDrivesExpiry(t *testing.T) {
	var runs atomic.Int64
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	c := cache.New(100, cache.WithClock(clk.now))
	defer c.Close()
	call := serve(t, c, &runs)
	add := func() {
		t.Helper()
		if v, err := call("ada", "calc@1.0.0", "add", 1, 2); err != nil || v != 3 {
			t.Fatalf("add(1, 2) = %v, %v", v, err)
		}
	}
	add()
	add()
	clk.advance(time.Minute - time.Millisecond)
	add()
	if got := runs.Load(); got != 1 {
		t.Fatalf("within the minute the method ran %d times, want 1", got)
	}
	clk.advance(time.Millisecond)
	add()
	if got := runs.Load(); got != 2 {
		t.Fatalf("after the minute on the fake clock the method ran %d times in all, want 2", got)
	}
	add()
	if got := runs.Load(); got != 2 {
		t.Fatalf("the fresh result was not kept: %d runs, want 2", got)
	}
	if s := cache.WithClock(clk.now).String(); s != "cache.WithClock(...)" {
		t.Errorf("String() = %q", s)
	}
}

// TestKeysKeepCallersApart: no identity, however odd its bytes, reads the
// result kept for another caller. The key once ended the identity with a
// zero byte, so that this caller met ada's key with one argument fewer.
func TestKeysKeepCallersApart(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	defer c.Close()
	call := serve(t, c, &runs)
	if v, err := call("ada", "calc@1.0.0", "add", 0, 2); err != nil || v != 2 {
		t.Fatalf("add(0, 2) = %v, %v", v, err)
	}
	v, err := call("ada\x00\x00\x00\x00\x01", "calc@1.0.0", "add", 2)
	if err == nil {
		t.Fatalf("another caller's add(2) = %v, want an error for the missing argument, not ada's result", v)
	}
}
