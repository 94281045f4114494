package titan_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

// Area has a contract: Side at least 1.
type Area struct {
	Side int `json:"side" jsonschema:"minimum=1"`
}

// Squares counts the runs of its method.
type Squares struct{ runs *atomic.Int64 }

func (s Squares) Square(_ context.Context, a Area) (int, error) {
	s.runs.Add(1)
	return a.Side * a.Side, nil
}

// serveSquares starts an app serving Squares (cached for a minute) with
// one interceptor of its own that records the code of each call it
// serves, and dials it.
func serveSquares(t *testing.T, sets ...string) (*netron.Peer, *atomic.Int64, func() []string) {
	t.Helper()
	var runs atomic.Int64
	var mu sync.Mutex
	var seen []string
	record := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			res, err := next(ctx, call)
			if !call.IsClient() {
				mu.Lock()
				outcome := "ok"
				if err != nil {
					outcome = netron.CodeOf(err).String()
				}
				seen = append(seen, outcome)
				mu.Unlock()
			}
			return res, err
		}
	})
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet(append([]string{"netron.listen=tcp://127.0.0.1:0"}, sets...)...)),
		titan.Service("squares", "1.0.0", func() Squares { return Squares{&runs} }, titan.Cache(time.Minute)),
		titan.Interceptors(record),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	p, err := netron.Dial(context.Background(), server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, &runs, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// An app's Netron has the response cache and contract validation,
// innermost: the app's own interceptor sees what validation refused.
func TestAppInstallsCacheAndValidation(t *testing.T) {
	t.Parallel()
	p, runs, seen := serveSquares(t)
	ctx := context.Background()
	_, err := p.Call(ctx, "squares@1.0.0", "square", Area{Side: 0})
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("square(side=0) = %v, want invalid_argument (the contract says minimum 1)", err)
	}
	for range 3 {
		if v, err := netron.CallUnary[int](ctx, p, "squares@1.0.0", "square", Area{Side: 3}); err != nil || v != 9 {
			t.Fatalf("square(3) = %v, %v", v, err)
		}
	}
	if runs.Load() != 1 {
		t.Fatalf("the method ran %d times, want 1 (the refused call never, then once and from the cache)", runs.Load())
	}
	if got := seen(); len(got) != 4 || got[0] != "invalid_argument" || got[1] != "ok" {
		t.Fatalf("the app's interceptor saw %v, want [invalid_argument ok ok ok]", got)
	}
}

// netron.skipValidation leaves validation out; the cache stays.
func TestSkipValidationConfig(t *testing.T) {
	t.Parallel()
	p, runs, _ := serveSquares(t, "netron.skipValidation=true")
	ctx := context.Background()
	if _, err := p.Call(ctx, "squares@1.0.0", "square", Area{Side: 0}); err != nil {
		t.Fatalf("square(side=0) with netron.skipValidation = %v, want it to run", err)
	}
	if _, err := p.Call(ctx, "squares@1.0.0", "square", Area{Side: 0}); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("the method ran %d times, want 1 (cached)", runs.Load())
	}
}

// netron.cacheBytes bounds the response cache's memory: with 1 KiB, a
// result takes more than a sixteenth of it (its key and bookkeeping
// alone do) and is not kept, so the method runs for every call.
func TestCacheBytesConfig(t *testing.T) {
	t.Parallel()
	p, runs, _ := serveSquares(t, "netron.cacheBytes=1024")
	ctx := context.Background()
	for range 2 {
		if v, err := netron.CallUnary[int](ctx, p, "squares@1.0.0", "square", Area{Side: 3}); err != nil || v != 9 {
			t.Fatalf("square(3) = %v, %v", v, err)
		}
	}
	if runs.Load() != 2 {
		t.Fatalf("the method ran %d times with netron.cacheBytes=1024, want 2 (nothing kept)", runs.Load())
	}
}

// Prices answers by the caller's tenant.
type Prices struct{ runs *atomic.Int64 }

func (p Prices) Price(ctx context.Context, item string) (string, error) {
	p.runs.Add(1)
	return netron.IncomingMetadata(ctx)["tenant"] + ":" + item, nil
}

// titan.CacheVaryBy keeps a cached result per value of the named metadata:
// two tenants asking the same never share an answer, one tenant asking
// twice is answered from the cache.
func TestCacheVaryBy(t *testing.T) {
	t.Parallel()
	var runs atomic.Int64
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("prices", "1.0.0", func() Prices { return Prices{&runs} },
			titan.Cache(time.Minute), titan.CacheVaryBy("tenant")),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	p, err := netron.Dial(context.Background(), server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for _, tenant := range []string{"acme", "globex", "acme", "globex"} {
		ctx := netron.WithOutgoingMetadata(context.Background(), map[string]string{"tenant": tenant})
		v, err := netron.CallUnary[string](ctx, p, "prices@1.0.0", "price", "tea")
		if err != nil || v != tenant+":tea" {
			t.Fatalf("price(tea) for %s = %q, %v, want %q", tenant, v, err, tenant+":tea")
		}
	}
	if runs.Load() != 2 {
		t.Fatalf("the method ran %d times for two tenants asking twice each, want 2", runs.Load())
	}
}
