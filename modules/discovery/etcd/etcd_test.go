package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"go.uber.org/goleak"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/etcd"
)

func TestMain(m *testing.M) {
	if testsrv.Child() {
		return
	}
	goleak.VerifyTestMain(m)
}

// prefix returns the key prefix of the test: its own, so that tests run
// in parallel, and so do test binaries run at once.
func prefix(t *testing.T) string {
	return fmt.Sprintf("titantest%d%s", os.Getpid(), strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, t.Name()))
}

// open opens a registry under the test's prefix, closed with the test.
func open(t *testing.T, url string, ttl time.Duration) *etcd.Registry {
	t.Helper()
	r, err := etcd.Open(context.Background(), url, prefix(t), ttl, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx := context.Background()
	r := open(t, url, time.Minute)
	for _, in := range []discovery.Instance{testsrv.Instance("app1/users@1.0.0", "1.0.0"), testsrv.Instance("app2/users@1.4.0", "1.4.0"), testsrv.Instance("app3/users@2.0.0", "2.0.0")} {
		if err := r.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil { // a heartbeat
		t.Fatal(err)
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users", Range: "^1"}); err != nil || testsrv.IDs(got) != "app1/users@1.0.0,app2/users@1.4.0" {
		t.Fatalf("Discover ^1 = %s, %v", testsrv.IDs(got), err)
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
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := etcd.Open(short, "etcd://127.0.0.1:1", "x", time.Second, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("an unreachable etcd: %v", err)
	}
}

// An instance that stops heartbeating leaves when its lease expires, and
// Watch says so; one that heartbeats stays.
func TestLeaseExpiryAndWatch(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx, cancel := context.WithCancel(context.Background())
	crashed := open(t, url, 2*time.Second)
	alive := open(t, url, 2*time.Second)
	if err := crashed.Register(ctx, testsrv.Instance("crashed", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := alive.Register(ctx, testsrv.Instance("alive", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan string, 10)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ins, err := range alive.Watch(ctx, discovery.Query{Service: "users"}) {
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
	for time.Since(start) < 10*time.Second {
		_ = alive.Register(ctx, testsrv.Instance("alive", "1.0.0"))
		select {
		case s := <-snaps:
			if s != "alive" {
				t.Fatalf("snapshot %q", s)
			}
			t.Logf("the crashed instance left %v after its last heartbeat (lease TTL 2s)", time.Since(start).Round(time.Millisecond))
			return
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Fatal("the crashed instance did not leave within 10s")
}

// Three instances register; a client that names only the service spreads
// its calls over all three; one that stops leaves the set.
func TestAppsFindEachOther(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	testsrv.SpreadOver(t, []string{"discovery.backend=etcd", "discovery.url=" + url, "discovery.prefix=" + prefix(t),
		"discovery.heartbeat=500ms", "discovery.ttl=2s", "discovery.deregisterDelay=50ms"})
}

// Three instances run as child processes; one is killed with SIGKILL in
// the middle of the load: no idempotent call fails, and the dead instance
// leaves Discover within its TTL.
func TestKilledInstance(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	names := []string{"a", "b", "c"}
	sets := []string{"discovery.backend=etcd", "discovery.url=" + url, "discovery.prefix=" + prefix(t), "discovery.heartbeat=500ms", "discovery.ttl=2s"}
	children := testsrv.StartChildren(t, sets, names...)
	var c testsrv.WhoClient
	testsrv.StartApp(t, testsrv.Settings(append(sets, "discovery.deregisterDelay=50ms")...),
		titan.Remote[testsrv.WhoClient]("who@^1"), titan.Invoke(func(x testsrv.WhoClient) { c = x }))
	testsrv.KillUnderLoad(t, c, children, names, open(t, url, 2*time.Second), 6*time.Second)
}

// Deregister and Health of an id another process registered match the
// whole id: "users@1.0.0" is not the instance app1/users@1.0.0.
func TestDeregisterAndHealthOfAnotherProcessesID(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx := context.Background()
	owner := open(t, url, time.Minute)
	for _, id := range []string{"app1/users@1.0.0", "app2/users@1.0.0"} {
		if err := owner.Register(ctx, testsrv.Instance(id, "1.0.0")); err != nil {
			t.Fatal(err)
		}
	}
	other := open(t, url, time.Minute)
	if h, err := other.Health(ctx, "users@1.0.0"); !errors.Is(err, discovery.ErrNotFound) {
		t.Errorf("Health of an id nobody registered = %q, %v; want ErrNotFound", h, err)
	}
	if h, err := other.Health(ctx, "app1/users@1.0.0"); err != nil || h != discovery.Healthy {
		t.Errorf("Health of another process's instance = %q, %v", h, err)
	}
	if err := other.Deregister(ctx, "users@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if got, _ := owner.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "app1/users@1.0.0,app2/users@1.0.0" {
		t.Fatalf("after Deregister of an id nobody registered: %s", testsrv.IDs(got))
	}
	if err := other.Deregister(ctx, "app1/users@1.0.0"); err != nil {
		t.Fatal(err)
	}
	if got, _ := owner.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "app2/users@1.0.0" {
		t.Fatalf("after Deregister of another process's instance: %s", testsrv.IDs(got))
	}
}

// A heartbeat writes the instance's key again when it is gone while its
// lease lives (another process deregistered the id).
func TestHeartbeatWritesBackADeletedKey(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx := context.Background()
	owner := open(t, url, time.Minute)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := owner.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := open(t, url, time.Minute).Deregister(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := owner.Discover(ctx, discovery.Query{Service: "users"}); len(got) != 0 {
		t.Fatalf("after Deregister by another process: %s", testsrv.IDs(got))
	}
	if err := owner.Register(ctx, in); err != nil { // a heartbeat
		t.Fatal(err)
	}
	if got, _ := owner.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != in.ID {
		t.Fatalf("after a heartbeat: %q, want the instance back", testsrv.IDs(got))
	}
}

// An instance registered again under another service (the same id, the
// service renamed) leaves the first: it is listed under the new service
// only, and Watch of the old one hears it go.
func TestReRegisterUnderAnotherService(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := open(t, url, time.Minute)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	snaps := testsrv.WatchIDs(t, ctx, r, "users", in.ID)
	in.Service = "accounts"
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	testsrv.CheckMoved(t, ctx, r, in, "users")
	testsrv.CheckLeft(t, snaps, "users")
	if err := r.Register(ctx, in); err != nil { // a heartbeat
		t.Fatal(err)
	}
	if err := r.Deregister(ctx, in.ID); err != nil {
		t.Fatal(err)
	}
	if names, err := r.Services(ctx); err != nil || len(names) != 0 {
		t.Errorf("Services after Deregister = %v, %v; want none", names, err)
	}
}
