package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
	"github.com/titanframework/titan/modules/netron"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Calc answers which instance served the call.
type Calc struct{ name string }

func (c *Calc) Who(context.Context) (string, error) { return c.name, nil }

// CalcClient is the client side.
type CalcClient struct {
	Who func(ctx context.Context) (string, error)
}

// settings are the configuration of a test app: quick heartbeats, a short
// TTL, quiet logs.
func settings(sets ...string) titan.Option {
	return titan.WithConfig(config.Options{
		Sets:    append([]string{"discovery.heartbeat=50ms", "discovery.ttl=300ms", "logger.level=error"}, sets...),
		Environ: []string{}, NoWatch: true,
	})
}

// shared makes an app use reg as its registry, so that the apps of a test
// (in one process) find each other.
func shared(reg discovery.Registry) titan.Option {
	return titan.Decorate(func(discovery.Registry) discovery.Registry { return reg })
}

func startInstance(t *testing.T, reg discovery.Registry, name string) *titan.App {
	t.Helper()
	app := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), shared(reg),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{name: name} }, titan.Method("who", titan.Idempotent())))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return app
}

func stop(t *testing.T, app *titan.App) {
	t.Helper()
	if err := app.Stop(context.Background()); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// spread makes n calls and counts who answered; every call must succeed.
func spread(t *testing.T, c CalcClient, n int) map[string]int {
	t.Helper()
	ctx := context.Background()
	counts := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				who, err := c.Who(ctx)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				counts[who]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a call failed: %v", err)
	}
	return counts
}

func evenly(t *testing.T, counts map[string]int, n int, names ...string) {
	t.Helper()
	atLeast(t, 20, counts, n, names...)
}

// atLeast checks that each named instance answered at least pct % of the n
// calls, and no other answered.
func atLeast(t *testing.T, pct int, counts map[string]int, n int, names ...string) {
	t.Helper()
	for _, name := range names {
		if counts[name] < n*pct/100 {
			t.Errorf("%s got %d of %d calls, want at least %d%%: %v", name, counts[name], n, pct, counts)
		}
	}
	if len(counts) != len(names) {
		t.Errorf("calls went to %v, want only %v", counts, names)
	}
}

// A remote named only by service reaches every registered instance, calls
// spread round-robin; an instance that stops gracefully leaves the set
// before its listeners close, and one that starts joins it.
func TestRemoteByName(t *testing.T) {
	reg := memory.New(time.Second)
	a, b, c := startInstance(t, reg, "a"), startInstance(t, reg, "b"), startInstance(t, reg, "c")
	defer stop(t, b)

	var client CalcClient
	capp := titan.New(settings(), shared(reg), titan.Remote[CalcClient]("calc@^1"), titan.Invoke(func(cc CalcClient) { client = cc }))
	if err := capp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, capp)

	evenly(t, spread(t, client, 3000), 3000, "a", "b", "c")

	// a stops under load: it deregisters first, the client stops picking
	// it and closes its connection once its calls are answered, and calls
	// the stopping server refused go to another instance: none fails.
	load := startLoad(client)
	stop(t, a)
	waitFor(t, func() bool { return !answers(client, "a") })
	if counts, errs := load.End(); len(errs) > 0 {
		t.Fatalf("%d calls failed while an instance stopped gracefully (%v answered); the first: %v", len(errs), counts, errs[0])
	}
	evenly(t, spread(t, client, 600), 600, "b", "c")

	d := startInstance(t, reg, "d")
	defer stop(t, d)
	waitFor(t, func() bool { return answers(client, "d") })
	evenly(t, spread(t, client, 900), 900, "b", "c", "d")
	stop(t, c)
}

// Every balancer spreads calls over all instances; least-pending sends
// fewer to a slow one than round-robin would.
func TestBalancers(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"round-robin", "random", "least-pending", "power-of-two"} {
		t.Run(b, func(t *testing.T) {
			reg := memory.New(time.Second)
			for _, name := range []string{"a", "b", "c"} {
				defer stop(t, startInstance(t, reg, name))
			}
			var client CalcClient
			capp := titan.New(settings("discovery.balancer="+b), shared(reg), titan.Remote[CalcClient]("calc@^1"), titan.Invoke(func(cc CalcClient) { client = cc }))
			if err := capp.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer stop(t, capp)
			// The adaptive balancers send more to whichever instance
			// answers faster, which on a loaded machine is not always
			// the same share: they must use every instance, not equally.
			pct := 20
			if b == "least-pending" || b == "power-of-two" {
				pct = 8
			}
			atLeast(t, pct, spread(t, client, 1500), 1500, "a", "b", "c")
		})
	}
	t.Run("least-pending avoids a slow instance", func(t *testing.T) {
		reg := memory.New(time.Second)
		defer stop(t, startInstance(t, reg, "a"))
		defer stop(t, startInstance(t, reg, "b"))
		slow := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), shared(reg),
			titan.Service("calc", "1.0.0", func() *SlowCalc { return &SlowCalc{} }))
		if err := slow.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer stop(t, slow)
		var client CalcClient
		capp := titan.New(settings("discovery.balancer=least-pending"), shared(reg), titan.Remote[CalcClient]("calc@^1"), titan.Invoke(func(cc CalcClient) { client = cc }))
		if err := capp.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer stop(t, capp)
		counts := spread(t, client, 1200)
		if counts["slow"] > 1200/6 { // half of round-robin's share; it gets far fewer unless the machine is starved
			t.Errorf("the slow instance got %d of 1200 calls (round-robin gives it 400): %v", counts["slow"], counts)
		}
	})
}

// SlowCalc takes 20 ms a call.
type SlowCalc struct{}

func (SlowCalc) Who(context.Context) (string, error) {
	time.Sleep(20 * time.Millisecond)
	return "slow", nil
}

// startLoad keeps 8 callers calling the client.
func startLoad(c CalcClient) *testsrv.Load {
	return testsrv.StartLoad(8, func() (string, error) { return c.Who(context.Background()) })
}

// answers reports whether name answers one of 20 calls.
func answers(c CalcClient, name string) bool {
	for range 20 {
		if who, err := c.Who(context.Background()); err == nil && who == name {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the set of instances did not follow the registry within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An app registers its services with the addresses it listens on and
// deregisters them when it stops, before its listeners close.
func TestRegistration(t *testing.T) {
	t.Parallel()
	reg := memory.New(time.Second)
	var n *netron.Netron
	app := titan.New(settings("netron.listen=tcp://127.0.0.1:0,ws://127.0.0.1:0"), shared(reg),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{} }, titan.Transports("tcp")),
		titan.Invoke(func(x *netron.Netron) { n = x }))
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ins, err := reg.Discover(context.Background(), discovery.Query{Service: "calc"})
	if err != nil || len(ins) != 1 {
		t.Fatalf("registered: %+v, %v", ins, err)
	}
	in := ins[0]
	if in.ID != n.ID()+"/calc@1.0.0" || in.Version != "1.0.0" || in.Health != discovery.Healthy ||
		len(in.Addrs) != 1 || !strings.HasPrefix(in.Addrs[0], "tcp://127.0.0.1:") || in.Addrs[0] != n.Addrs()[0] {
		t.Fatalf("instance %+v; the Netron listens on %v and the service is tcp only", in, n.Addrs())
	}
	stop(t, app)
	if ins, _ := reg.Discover(context.Background(), discovery.Query{Service: "calc", AnyHealth: true}); len(ins) != 0 {
		t.Fatalf("still registered after the stop: %+v", ins)
	}
}

// What goes wrong at start-up says what and where.
func TestStartupErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"discovery.backend=redis"}, `discovery.backend "redis": the backend's package is not linked into this program; add import _ "github.com/titanframework/titan/modules/discovery/redis"`},
		{[]string{"discovery.backend=nats", "nats.embedded=true"}, `discovery.backend "nats" with nats.embedded: the embedded NATS server is not linked into this program; add import _ "github.com/titanframework/titan/modules/discovery/nats/embedded"`},
		{[]string{"discovery.backend=zookeeper"}, `discovery.backend "zookeeper": no such backend (linked: memory)`},
		{[]string{"discovery.heartbeat=20s"}, "discovery.ttl: want more than discovery.heartbeat (20s), got 300ms"},
	} {
		// The configuration is checked while the app is built; the
		// backend is opened when it starts.
		a := titan.New(settings(tc.sets...))
		err := a.Err()
		if err == nil {
			err = a.Start(context.Background())
			a.Stop(context.Background())
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v\nwant it to contain %s", tc.sets, err, tc.want)
		}
	}
	// Start-up waits for a remote the registry does not show yet, here
	// for 200ms instead of the default 10s, and then says what the
	// resolver said.
	err := titan.New(settings(), titan.Remote[CalcClient]("calc@^1", netron.WithConnectWait(200*time.Millisecond)), titan.Invoke(func(CalcClient) {})).Start(context.Background())
	if want := "waited 200ms (ConnectWait) for the first instance to connect; the resolver: not_found: no address for service calc: netron.remotes is empty (set netron.remotes.calc); no healthy instance of calc@^1 is registered in the memory registry"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a remote nobody serves: %v\nwant it to contain %s", err, want)
	}
}

// Addresses keeps the highest version and one address per instance,
// tcp:// first.
func TestAddresses(t *testing.T) {
	t.Parallel()
	ins := []discovery.Instance{
		{ID: "1", Version: "1.2.0", Addrs: []string{"ws://h1:2", "tcp://h1:1"}},
		{ID: "2", Version: "1.10.0", Addrs: []string{"http://h2:3", "unix:///s"}},
		{ID: "3", Version: "1.10.0", Addrs: []string{"nats://h3:4"}},
	}
	if got := fmt.Sprint(discovery.Addresses(ins)); got != "[unix:///s nats://h3:4]" {
		t.Fatalf("Addresses = %s", got)
	}
}

// crashable is a registry that stops writing once its app crashed, as a
// killed process would: its entries stay until their TTL runs out.
type crashable struct {
	discovery.Registry
	crashed atomic.Bool
}

func (c *crashable) Register(ctx context.Context, in discovery.Instance) error {
	if c.crashed.Load() {
		return errors.New("crashed")
	}
	return c.Registry.Register(ctx, in)
}

func (c *crashable) Deregister(ctx context.Context, id string) error {
	if c.crashed.Load() {
		return errors.New("crashed")
	}
	return c.Registry.Deregister(ctx, id)
}

// An instance that dies abruptly in the middle of the load (its
// connections cut with calls in flight, its entry left to expire) costs
// no idempotent call: those in flight go to another instance, new ones
// pass over it, and it leaves the set when its TTL runs out.
func TestAbruptStopLosesNoIdempotentCall(t *testing.T) {
	reg := memory.New(300 * time.Millisecond)
	b, c := startInstance(t, reg, "b"), startInstance(t, reg, "c")
	defer stop(t, b)
	defer stop(t, c)
	cr := &crashable{Registry: reg}
	var victim *netron.Netron
	a := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), shared(cr),
		titan.Service("calc", "1.0.0", func() *Calc { return &Calc{name: "a"} }, titan.Method("who", titan.Idempotent())),
		titan.Invoke(func(n *netron.Netron) { victim = n }))
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var client CalcClient
	capp := titan.New(settings(), shared(reg), titan.Remote[CalcClient]("calc@^1"), titan.Invoke(func(cc CalcClient) { client = cc }))
	if err := capp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer stop(t, capp)
	waitFor(t, func() bool { return answers(client, "a") })

	l := startLoad(client)
	time.Sleep(100 * time.Millisecond)
	cr.crashed.Store(true)
	cut, cancel := context.WithCancel(context.Background())
	cancel()
	_ = victim.Stop(cut) // no drain: connections cut with calls in flight
	// The load goes on until the dead instance's entry has expired (its
	// TTL is 300 ms; it was 600 ms of sleep before, past the TTL).
	var ins []discovery.Instance
	for deadline := time.Now().Add(600 * time.Millisecond); ; time.Sleep(10 * time.Millisecond) {
		ins, _ = reg.Discover(context.Background(), discovery.Query{Service: "calc"})
		if len(ins) == 2 || time.Now().After(deadline) {
			break
		}
	}
	counts, errs := l.End()
	if len(errs) > 0 {
		t.Fatalf("%d idempotent calls failed when an instance died (%v answered); the first: %v", len(errs), counts, errs[0])
	}
	if len(ins) != 2 {
		t.Errorf("%d instances registered after the TTL, want the 2 live ones", len(ins))
	}
	evenly(t, spread(t, client, 600), 600, "b", "c")
	_ = a.Stop(context.Background())
}

// Changes passes the first snapshot and then only those that differ in
// any field, metadata included.
func TestChanges(t *testing.T) {
	t.Parallel()
	in := discovery.Instance{ID: "a", Service: "s", Version: "1.0.0", Addrs: []string{"tcp://h:1"}, Health: discovery.Healthy, Metadata: map[string]string{"zone": "x"}}
	moved := in
	moved.Metadata = map[string]string{"zone": "y"}
	var c discovery.Changes
	for i, tc := range []struct {
		snap []discovery.Instance
		want bool
	}{
		{[]discovery.Instance{}, true}, {nil, false}, {[]discovery.Instance{in}, true}, {[]discovery.Instance{in}, false},
		{[]discovery.Instance{moved}, true}, {[]discovery.Instance{moved, in}, true}, {[]discovery.Instance{}, true},
	} {
		if got := c.Changed(tc.snap); got != tc.want {
			t.Errorf("snapshot %d: Changed = %v, want %v", i, got, tc.want)
		}
	}
}

// The app's registry opens when the app starts: a call while the app is
// built fails saying so, and the same call works once it started.
func TestRegistryBeforeStart(t *testing.T) {
	t.Parallel()
	var reg discovery.Registry
	var early error
	app := titan.New(settings(), titan.Invoke(func(r discovery.Registry) {
		reg = r
		_, early = r.Discover(context.Background(), discovery.Query{Service: "calc"})
	}))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "discovery: the registry is not open yet"; early == nil || !strings.Contains(early.Error(), want) {
		t.Errorf("Discover before start: %v, want an error containing %q", early, want)
	}
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Discover(ctx, discovery.Query{Service: "calc"}); err != nil {
		t.Errorf("Discover after start: %v", err)
	}
	if l, ok := reg.(discovery.Lister); !ok {
		t.Error("the app's registry does not list its services (discovery.Lister), as its backend does")
	} else if _, err := l.Services(ctx); err != nil {
		t.Errorf("Services after start: %v", err)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Discover(ctx, discovery.Query{Service: "calc"}); err == nil {
		t.Error("Discover after stop succeeded")
	}
}

// A watch begun while the app is built (a client following its remotes
// from its own start hook) waits for the registry to open instead of
// yielding an error, and then yields the registry's instances; before a
// start that never comes it ends with its context.
func TestRegistryWatchBeforeStart(t *testing.T) {
	t.Parallel()
	var reg discovery.Registry
	app := titan.New(settings(), titan.Invoke(func(r discovery.Registry) { reg = r }))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type event struct {
		ins []discovery.Instance
		err error
	}
	events := make(chan event, 16)
	go func() {
		for ins, err := range reg.Watch(ctx, discovery.Query{Service: "calc"}) {
			events <- event{ins, err}
			if err == nil {
				return
			}
		}
	}()
	select {
	case e := <-events:
		t.Fatalf("the watch yielded before the app started: %v, %v", e.ins, e.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.err != nil {
			t.Fatalf("the watch after the start: %v", e.err)
		}
	case <-ctx.Done():
		t.Fatal("the watch yielded nothing in 10s after the start")
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	// Before a start that never comes, the watch ends with its context.
	var unstarted discovery.Registry
	app = titan.New(settings(), titan.Invoke(func(r discovery.Registry) { unstarted = r }))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithCancel(ctx)
	ended := make(chan int, 1)
	go func() {
		n := 0
		for range unstarted.Watch(wctx, discovery.Query{Service: "calc"}) {
			n++
		}
		ended <- n
	}()
	wcancel()
	select {
	case n := <-ended:
		if n != 0 {
			t.Fatalf("the watch of an app never started yielded %d times, want none", n)
		}
	case <-ctx.Done():
		t.Fatal("the watch of an app never started did not end with its context")
	}
}
