package metrics_test

import (
	"context"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/metrics"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Cached is Calc as a second service.
type Cached struct{ Calc }

// The response cache's hits and misses are series.
func TestCacheSeries(t *testing.T) {
	ta := startApp(t, "tcp://127.0.0.1:0", nil,
		titan.Service("cached", "1.0.0", func() Cached { return Cached{} }, titan.Cache(time.Minute)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := dial(t, ta.addrs["tcp"])
	for range 3 {
		if _, err := netron.CallUnary[float64](ctx, p, "cached@1.0.0", "add", 1, 2); err != nil {
			t.Fatal(err)
		}
	}
	fams := scrape(t, ta.admin+"/metrics")
	for name, want := range map[string]float64{"titan_cache_hits_total": 2, "titan_cache_misses_total": 1, "titan_cache_entries": 1} {
		if got, ok := sample(fams, name, nil); !ok || got != want {
			t.Errorf("%s = %v (found %v), want %v", name, got, ok, want)
		}
	}
	// The one result is counted at its bytes: more than nothing, far under
	// the 64 MiB budget.
	if got, ok := sample(fams, "titan_cache_bytes", nil); !ok || got <= 0 || got > 1<<20 {
		t.Errorf("titan_cache_bytes = %v (found %v), want the bytes of one small result", got, ok)
	}
}

// breakers is a circuit-breaker registry as a breaker module would keep
// one: states by name.
type breakers map[string]metrics.BreakerState

func (b breakers) BreakerStates() iter.Seq2[string, metrics.BreakerState] {
	return func(yield func(string, metrics.BreakerState) bool) {
		for name, st := range b {
			if !yield(name, st) {
				return
			}
		}
	}
}

// The breakers a module reports through metrics.AsBreakers are the
// titan_breaker_state gauge; an app registers series of its own with the
// Registerer the module provides.
func TestBreakerHookAndAppSeries(t *testing.T) {
	ta := startApp(t, "tcp://127.0.0.1:0", nil,
		titan.Provide(metrics.AsBreakers(func() breakers {
			return breakers{"users@^1": metrics.BreakerOpen, "orders@^2": metrics.BreakerHalfOpen, "billing@^1": metrics.BreakerClosed}
		})),
		titan.Invoke(func(reg prometheus.Registerer) error {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "app_orders_total", Help: "Orders."})
			c.Add(7)
			return reg.Register(c)
		}))
	fams := scrape(t, ta.admin+"/metrics")
	for name, want := range map[string]float64{"users@^1": 2, "orders@^2": 1, "billing@^1": 0} {
		if got, ok := sample(fams, "titan_breaker_state", map[string]string{"breaker": name}); !ok || got != want {
			t.Errorf("titan_breaker_state{breaker=%q} = %v (found %v), want %v", name, got, ok, want)
		}
	}
	if got, _ := sample(fams, "app_orders_total", nil); got != 7 {
		t.Errorf("app_orders_total = %v, want 7", got)
	}
}

// invoker serves calc@1.0.0 on a bare Netron with ics and returns a
// function that calls add through Invoke (the path of gateway calls).
func invoker(tb testing.TB, ics ...netron.Interceptor) func() {
	tb.Helper()
	n, err := netron.New(netron.Config{}, nil, netron.WithInterceptors(ics...))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		tb.Fatal(err)
	}
	one, _ := protocol.AppendValue(nil, 1.0)
	two, _ := protocol.AppendValue(nil, 2.0)
	inv := &netron.Invocation{Service: "calc@1.0.0", Method: "add", Args: []protocol.RawValue{one, two}, Transport: "http"}
	ctx := context.Background()
	return func() {
		if _, err := n.Invoke(ctx, inv); err != nil {
			tb.Fatal(err)
		}
	}
}

// Once its series are resolved, the interceptor allocates nothing per call,
// and keeps the Calls pooled (it borrows them).
func TestNoAllocationPerCall(t *testing.T) {
	ic, err := metrics.NewInterceptor(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	plain, counted := invoker(t), invoker(t, ic)
	counted() // resolves the series
	base := testing.AllocsPerRun(1000, plain)
	with := testing.AllocsPerRun(1000, counted)
	if with > base {
		t.Fatalf("a call allocates %v times with the interceptor, %v without", with, base)
	}
}

// NewInterceptor refuses invalid options, naming them, and a registry
// that already has its series.
func TestNewInterceptorRefuses(t *testing.T) {
	for _, opt := range []metrics.Option{metrics.WithMaxMethods(0), metrics.WithBuckets(1, 1)} {
		if _, err := metrics.NewInterceptor(prometheus.NewRegistry(), opt); err == nil {
			t.Errorf("%s accepted", opt)
		}
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.NewInterceptor(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewInterceptor(reg); err == nil {
		t.Error("two interceptors on one registry")
	}
}

// WithBuckets without bounds leaves the duration histograms on
// DefaultBuckets, as no WithBuckets does.
func TestWithBucketsNoneIsDefault(t *testing.T) {
	reg := prometheus.NewRegistry()
	ic, err := metrics.NewInterceptor(reg, metrics.WithBuckets())
	if err != nil {
		t.Fatal(err)
	}
	invoker(t, ic)()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "rpc_server_call_duration_seconds" {
			continue
		}
		buckets := f.GetMetric()[0].GetHistogram().GetBucket()
		if len(buckets) != len(metrics.DefaultBuckets) || buckets[0].GetUpperBound() != metrics.DefaultBuckets[0] {
			t.Fatalf("%d buckets from %v, want DefaultBuckets (%d from %v)", len(buckets), buckets[0].GetUpperBound(), len(metrics.DefaultBuckets), metrics.DefaultBuckets[0])
		}
		return
	}
	t.Fatal("no rpc_server_call_duration_seconds")
}

// noBreakers is a breaker module that has no breakers yet and says so
// with a nil iterator.
type noBreakers struct{}

func (noBreakers) BreakerStates() iter.Seq2[string, metrics.BreakerState] { return nil }

// A Breakers that yields nothing through a nil iterator, or names a
// breaker in bytes that are not UTF-8, costs no other breaker its gauge.
func TestBreakersNilIteratorAndBadName(t *testing.T) {
	ta := startApp(t, "tcp://127.0.0.1:0", nil,
		titan.Provide(metrics.AsBreakers(func() noBreakers { return noBreakers{} })),
		titan.Provide(metrics.AsBreakers(func() breakers {
			return breakers{"users@^1": metrics.BreakerOpen, "bad\xffname": metrics.BreakerHalfOpen}
		})))
	fams := scrape(t, ta.admin+"/metrics")
	for name, want := range map[string]float64{"users@^1": 2, "bad\uFFFDname": 1} {
		if got, ok := sample(fams, "titan_breaker_state", map[string]string{"breaker": name}); !ok || got != want {
			t.Errorf("titan_breaker_state{breaker=%q} = %v (found %v), want %v", name, got, ok, want)
		}
	}
}

// pointerBreakers is a breaker module kept behind a pointer.
type pointerBreakers struct{ states breakers }

func (b *pointerBreakers) BreakerStates() iter.Seq2[string, metrics.BreakerState] {
	return b.states.BreakerStates()
}

// A constructor given to metrics.AsBreakers that returns no Breakers (a
// nil interface, or a nil pointer) fails the app's wiring with an error
// that names the group and the type, rather than every scrape of
// /metrics later.
func TestNilBreakersRefusedAtWiring(t *testing.T) {
	for name, ctor := range map[string]any{
		"nil interface": func() metrics.Breakers { return nil },
		"nil pointer":   func() (*pointerBreakers, error) { return nil, nil },
	} {
		err := titan.New(testsrv.Settings(), titan.Provide(metrics.AsBreakers(ctor))).Err()
		if err == nil || !strings.Contains(err.Error(), "nil Breakers") || !strings.Contains(err.Error(), metrics.BreakerGroup) {
			t.Errorf("%s: %v, want an error naming a nil Breakers in %s", name, err, metrics.BreakerGroup)
		}
	}
}
