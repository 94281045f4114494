package consul_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/consul"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func instance(id, version string) discovery.Instance {
	return discovery.Instance{ID: id, Service: "users", Version: version, Addrs: []string{"tcp://10.0.0.1:7070", "ws://10.0.0.1:7080/"},
		Metadata: map[string]string{"zone": "eu-1"}, Health: discovery.Healthy}
}

func ids(ins []discovery.Instance) string {
	var s []string
	for _, in := range ins {
		s = append(s, in.ID)
	}
	return strings.Join(s, ",")
}

func open(t *testing.T, url string, ttl time.Duration) *consul.Registry {
	t.Helper()
	r, err := consul.Open(context.Background(), url, ttl, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRegistry(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	r := open(t, f.url(), time.Minute)
	for _, in := range []discovery.Instance{instance("app1/users@1.0.0", "1.0.0"), instance("app2/users@1.4.0", "1.4.0"), instance("app3/users@2.0.0", "2.0.0")} {
		if err := r.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Register(ctx, instance("app1/users@1.0.0", "1.0.0")); err != nil { // a heartbeat
		t.Fatal(err)
	}
	got, err := r.Discover(ctx, discovery.Query{Service: "users", Range: "^1"})
	if err != nil || ids(got) != "app1/users@1.0.0,app2/users@1.4.0" {
		t.Fatalf("Discover ^1 = %s, %v", ids(got), err)
	}
	if got[0].Metadata["zone"] != "eu-1" || len(got[0].Addrs) != 2 {
		t.Fatalf("the instance did not come back whole: %+v", got[0])
	}
	if h, err := r.Health(ctx, "app2/users@1.4.0"); err != nil || h != discovery.Healthy {
		t.Fatalf("Health = %v, %v", h, err)
	}
	if err := r.Deregister(ctx, "app2/users@1.4.0"); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); ids(got) != "app1/users@1.0.0,app3/users@2.0.0" {
		t.Fatalf("after Deregister: %s", ids(got))
	}
	if names, err := r.Services(ctx); err != nil || len(names) != 1 || names[0] != "users" {
		t.Fatalf("Services = %v, %v", names, err)
	}
	// The agent restarted and forgot everything: the next heartbeat
	// registers again.
	f.kill()
	if err := r.Register(ctx, instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); ids(got) != "app1/users@1.0.0" {
		t.Fatalf("after the agent forgot: %s", ids(got))
	}
	if _, err := consul.Open(ctx, "http://127.0.0.1:1", time.Second, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("an unreachable agent: %v", err)
	}
}

// A crashed instance's check turns critical when its TTL runs out, and
// Watch (blocking queries) drops it; one that heartbeats stays.
func TestTTLAndWatch(t *testing.T) {
	f := newFakeAgent(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := open(t, f.url(), 300*time.Millisecond)
	if err := r.Register(ctx, instance("crashed", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, instance("alive", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan string, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err == nil {
				snaps <- ids(ins)
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	if s := <-snaps; s != "alive,crashed" {
		t.Fatalf("first snapshot %q", s)
	}
	start := time.Now()
	for time.Since(start) < 5*time.Second {
		_ = r.Register(ctx, instance("alive", "1.0.0"))
		select {
		case s := <-snaps:
			if s != "alive" {
				t.Fatalf("snapshot %q", s)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the crashed instance left after %v, want about its 300ms TTL", d)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("the crashed instance did not leave within 5s")
}

// Who answers which instance served the call.
type Who struct{ name string }

func (w *Who) Name(context.Context) (string, error) { return w.name, nil }

type WhoClient struct {
	Name func(ctx context.Context) (string, error)
}

// Three instances register with the agent; a client that names only the
// service spreads its calls over all three.
func TestAppsFindEachOther(t *testing.T) {
	f := newFakeAgent(t)
	settings := func(sets ...string) titan.Option {
		return titan.WithConfig(config.Options{Sets: append([]string{"discovery.backend=consul", "discovery.url=" + f.url(),
			"discovery.heartbeat=100ms", "discovery.ttl=1s", "discovery.deregisterDelay=50ms", "logger.level=error"}, sets...),
			Environ: []string{}, NoWatch: true})
	}
	for _, name := range []string{"a", "b", "c"} {
		app := titan.New(settings("netron.listen=tcp://127.0.0.1:0"), titan.Service("who", "1.0.0", func() *Who { return &Who{name: name} }))
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer app.Stop(context.Background())
	}
	var c WhoClient
	capp := titan.New(settings(), titan.Remote[WhoClient]("who@^1"), titan.Invoke(func(x WhoClient) { c = x }))
	if err := capp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer capp.Stop(context.Background())
	counts := map[string]int{}
	for range 3000 {
		who, err := c.Name(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		counts[who]++
	}
	for _, n := range []string{"a", "b", "c"} {
		if counts[n] < 600 {
			t.Errorf("%s got %d of 3000 calls: %v", n, counts[n], counts)
		}
	}
}
