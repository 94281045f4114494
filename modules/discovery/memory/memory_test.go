package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func instance(id, version string, h discovery.Health) discovery.Instance {
	in := testsrv.Instance(id, version)
	in.Health = h
	return in
}

func TestRegisterDiscover(t *testing.T) {
	ctx := context.Background()
	r := memory.New(time.Minute)
	for _, in := range []discovery.Instance{
		instance("a", "1.0.0", discovery.Healthy),
		instance("b", "1.2.0", discovery.Healthy),
		instance("c", "2.0.0", discovery.Healthy),
		instance("d", "1.3.0", discovery.Draining),
		{ID: "e", Service: "orders", Version: "1.0.0", Addrs: []string{"tcp://x:1"}, Health: discovery.Healthy},
	} {
		if err := r.Register(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		q    discovery.Query
		want string
	}{
		{discovery.Query{Service: "users"}, "a,b,c"},
		{discovery.Query{Service: "users", Range: "^1"}, "a,b"},
		{discovery.Query{Service: "users", Range: "=1.2.0"}, "b"},
		{discovery.Query{Service: "users", Range: "^1", AnyHealth: true}, "a,b,d"},
		{discovery.Query{Service: "nobody"}, ""},
	} {
		got, err := r.Discover(ctx, tc.q)
		if err != nil || testsrv.IDs(got) != tc.want {
			t.Errorf("Discover(%+v) = %s, %v; want %s", tc.q, testsrv.IDs(got), err, tc.want)
		}
	}
	if _, err := r.Discover(ctx, discovery.Query{Service: "users", Range: "^^1"}); err == nil || !strings.Contains(err.Error(), `version range "^^1"`) {
		t.Errorf("a bad range: %v", err)
	}
	if h, err := r.Health(ctx, "d"); err != nil || h != discovery.Draining {
		t.Errorf("Health(d) = %v, %v", h, err)
	}
	if err := r.Deregister(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.Deregister(ctx, "a"); err != nil {
		t.Errorf("deregistering twice: %v", err)
	}
	if _, err := r.Health(ctx, "a"); !errors.Is(err, discovery.ErrNotFound) {
		t.Errorf("Health of a deregistered instance: %v", err)
	}
	bad := []discovery.Instance{
		{Service: "users", Version: "1.0.0", Addrs: []string{"tcp://x:1"}, Health: discovery.Healthy},
		{ID: "x", Service: "users", Version: "1.0", Addrs: []string{"tcp://x:1"}, Health: discovery.Healthy},
		{ID: "x", Service: "users", Version: "1.0.0", Health: discovery.Healthy},
		{ID: "x", Service: "users", Version: "1.0.0", Addrs: []string{"tcp://x:1"}, Health: "fine"},
	}
	for _, in := range bad {
		if err := r.Register(ctx, in); err == nil {
			t.Errorf("Register(%+v) accepted", in)
		}
	}
	err := r.Register(ctx, bad[1])
	if want := `discovery: instance "x" of users@1.0: version "1.0" is not a semantic version`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

// An instance that stops heartbeating leaves Discover and Watch when its
// time to live runs out; a heartbeat keeps it.
func TestTTL(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := memory.New(200 * time.Millisecond)
	if err := r.Register(ctx, instance("alive", "1.0.0", discovery.Healthy)); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, instance("crashed", "1.0.0", discovery.Healthy)); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan string, 10)
	go func() {
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err != nil {
				t.Error(err)
				return
			}
			snaps <- testsrv.IDs(ins)
		}
	}()
	if s := <-snaps; s != "alive,crashed" {
		t.Fatalf("first snapshot %s", s)
	}
	start := time.Now()
	stop := make(chan struct{})
	go func() { // alive heartbeats
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				_ = r.Register(ctx, instance("alive", "1.0.0", discovery.Healthy))
			}
		}
	}()
	defer close(stop)
	select {
	case s := <-snaps:
		if s != "alive" {
			t.Fatalf("snapshot after the expiry: %s", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the crashed instance did not leave within 2s")
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("the crashed instance left after %v, want about the 200ms TTL", d)
	}
	if got, _ := r.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "alive" {
		t.Errorf("Discover after the expiry: %s", testsrv.IDs(got))
	}
}

// Watch reports changes (a new instance, a health change, a leave) and
// not heartbeats that change nothing.
func TestWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := memory.New(time.Minute)
	next, stop := iterPull(r, ctx)
	defer stop()
	want := func(s string) {
		t.Helper()
		if got := next(); got != s {
			t.Fatalf("snapshot %q, want %q", got, s)
		}
	}
	want("")
	_ = r.Register(ctx, instance("a", "1.0.0", discovery.Healthy))
	want("a")
	_ = r.Register(ctx, instance("a", "1.0.0", discovery.Healthy)) // a heartbeat
	_ = r.Register(ctx, instance("b", "1.0.0", discovery.Healthy))
	want("a,b")
	_ = r.Register(ctx, instance("a", "1.0.0", discovery.Draining))
	want("b")
	_ = r.Deregister(ctx, "b")
	want("")
}

func iterPull(r *memory.Registry, ctx context.Context) (func() string, func()) {
	ch := make(chan string)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ins, err := range r.Watch(wctx, discovery.Query{Service: "users"}) {
			if err != nil {
				return
			}
			select {
			case ch <- testsrv.IDs(ins):
			case <-wctx.Done():
				return
			}
		}
	}()
	return func() string {
			select {
			case s := <-ch:
				return s
			case <-time.After(2 * time.Second):
				return "(nothing within 2s)"
			}
		}, func() {
			cancel()
			<-done
		}
}
