package consul_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/consul"
)

func TestMain(m *testing.M) {
	if testsrv.Child() {
		return
	}
	goleak.VerifyTestMain(m)
}

// instance is testsrv's with a second address and metadata, which the
// Consul backend carries in the service's meta.
func instance(id, version string) discovery.Instance {
	in := testsrv.Instance(id, version)
	in.Addrs = append(in.Addrs, "ws://10.0.0.1:7080/")
	in.Metadata = map[string]string{"zone": "eu-1"}
	return in
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
	if err != nil || testsrv.IDs(got) != "app1/users@1.0.0,app2/users@1.4.0" {
		t.Fatalf("Discover ^1 = %s, %v", testsrv.IDs(got), err)
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
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "app1/users@1.0.0,app3/users@2.0.0" {
		t.Fatalf("after Deregister: %s", testsrv.IDs(got))
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
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "app1/users@1.0.0" {
		t.Fatalf("after the agent forgot: %s", testsrv.IDs(got))
	}
	if _, err := consul.Open(ctx, "http://127.0.0.1:1", time.Second, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("an unreachable agent: %v", err)
	}
}

// Metadata Consul would refuse (its agent answers 400 naming neither the
// instance nor the key) is refused by Register, naming both; what it
// takes registers.
func TestMetadataConsulRefuses(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	r := open(t, f.url(), time.Minute)
	many := map[string]string{}
	for i := range 61 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	for _, tc := range []struct {
		md   map[string]string
		want string
	}{
		{map[string]string{"zone.name": "eu"}, `metadata key "zone.name": Consul takes keys of letters, digits, '_' and '-'`},
		{map[string]string{"": "x"}, `metadata key "": Consul takes keys`},
		{map[string]string{strings.Repeat("k", 127): "x"}, "at most 126 bytes"},
		{map[string]string{"note": strings.Repeat("x", 513)}, `metadata "note": its value has 513 bytes, more than the 512 Consul takes`},
		{many, "61 metadata entries, more than the 60 Consul keeps"},
	} {
		in := instance("app1/users@1.0.0", "1.0.0")
		in.Metadata = tc.md
		if err := r.Register(ctx, in); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "app1/users@1.0.0") {
			t.Errorf("metadata %.60v: %v, want an error naming the instance and %q", tc.md, err, tc.want)
		}
	}
	in := instance("app1/users@1.0.0", "1.0.0")
	in.Metadata = map[string]string{"zone_name": "eu", "rack-2": strings.Repeat("x", 512), strings.Repeat("k", 126): "x"}
	if err := r.Register(ctx, in); err != nil {
		t.Fatalf("metadata Consul takes: %v", err)
	}
}

// Deregistering an id the agent does not hold (never registered, or
// already gone) is not an error, as discovery.Registry says; the agent's
// other refusals still are.
func TestDeregisterUnknownID(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	r := open(t, f.url(), time.Minute)
	if err := r.Deregister(ctx, "never-registered"); err != nil {
		t.Errorf("Deregister of an id never registered: %v", err)
	}
	if err := r.Register(ctx, instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := r.Deregister(ctx, "app1/users@1.0.0"); err != nil {
			t.Errorf("Deregister of a registered id, then of the same id again: %v", err)
		}
	}

	for name, answer := range map[string]struct {
		code int
		body string
	}{
		"ACL denied":             {http.StatusForbidden, "Permission denied"},
		"not the agent":          {http.StatusNotFound, "404 page not found"},
		"agent fails to forward": {http.StatusInternalServerError, "rpc error: No cluster leader"},
	} {
		t.Run(name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /v1/status/leader", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`"127.0.0.1:8300"`)) })
			mux.HandleFunc("PUT /v1/agent/service/deregister/{id}", func(w http.ResponseWriter, r *http.Request) { http.Error(w, answer.body, answer.code) })
			srv := httptest.NewServer(mux)
			defer srv.Close()
			r := open(t, srv.URL, time.Minute)
			if err := r.Deregister(ctx, "app1/users@1.0.0"); err == nil || !strings.Contains(err.Error(), answer.body) {
				t.Errorf("Deregister answered %d %q: %v; want that error", answer.code, answer.body, err)
			}
		})
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
				snaps <- testsrv.IDs(ins)
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

// Three instances register; a client that names only the service spreads
// its calls over all three; one that stops leaves the set.
func TestAppsFindEachOther(t *testing.T) {
	f := newFakeAgent(t)
	testsrv.SpreadOver(t, []string{"discovery.backend=consul", "discovery.url=" + f.url(),
		"discovery.heartbeat=100ms", "discovery.ttl=1s", "discovery.deregisterDelay=50ms"})
}

// Three instances run as child processes registered with the agent; one
// is killed (SIGKILL: no deregistration, its TTL check left to fail) in
// the middle of a client's load: no idempotent call fails, and the killed
// instance leaves the registry when its check goes critical.
func TestKilledInstance(t *testing.T) {
	f := newFakeAgent(t)
	sets := []string{"discovery.backend=consul", "discovery.url=" + f.url(), "discovery.heartbeat=100ms", "discovery.ttl=500ms"}
	names := []string{"a", "b", "c"}
	children := testsrv.StartChildren(t, sets, names...)
	var c testsrv.WhoClient
	testsrv.StartApp(t, testsrv.Settings(sets...), titan.Remote[testsrv.WhoClient]("who@^1"), titan.Invoke(func(x testsrv.WhoClient) { c = x }))
	testsrv.KillUnderLoad(t, c, children, names, open(t, f.url(), time.Second), 3*time.Second)
}
