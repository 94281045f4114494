package composite_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/composite"
	"github.com/titanframework/titan/modules/discovery/memory"
	_ "github.com/titanframework/titan/modules/discovery/redis"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// down is a registry that cannot be reached.
type down struct{}

func (down) Register(context.Context, discovery.Instance) error { return errors.New("down") }
func (down) Deregister(context.Context, string) error           { return errors.New("down") }
func (down) Discover(context.Context, discovery.Query) ([]discovery.Instance, error) {
	return nil, errors.New("down")
}
func (down) Watch(context.Context, discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) { yield(nil, errors.New("down")) }
}
func (down) Health(context.Context, string) (discovery.Health, error) { return "", errors.New("down") }
func (down) Close() error                                             { return nil }

// Instances register everywhere, are found in the union once each, and a
// registry that is down does not hide what the others hold.
func TestComposite(t *testing.T) {
	ctx := context.Background()
	a, b := memory.New(time.Minute), memory.New(time.Minute)
	c := composite.New(a, b)
	if err := c.Register(ctx, testsrv.Instance("both", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := a.Register(ctx, testsrv.Instance("only-a", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(ctx, testsrv.Instance("only-b", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "both,only-a,only-b" {
		t.Fatalf("Discover = %s, %v", testsrv.IDs(got), err)
	}
	if got, _ := b.Discover(ctx, discovery.Query{Service: "users"}); testsrv.IDs(got) != "both,only-b" {
		t.Fatalf("the composite did not register in b: %s", testsrv.IDs(got))
	}
	withDown := composite.New(a, down{})
	if got, err := withDown.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "both,only-a" {
		t.Fatalf("Discover with a registry down = %s, %v", testsrv.IDs(got), err)
	}
	if err := composite.New(memory.New(time.Minute), down{}).Register(ctx, testsrv.Instance("x", "1.0.0")); err == nil {
		t.Fatal("a registration that failed in one registry was reported as done")
	}
	if _, err := composite.New(down{}, down{}).Discover(ctx, discovery.Query{Service: "users"}); err == nil {
		t.Fatal("no registry answered, and no error")
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next, stop := iterPull(c.Watch(wctx, discovery.Query{Service: "users"}))
	defer stop()
	if got, _ := next(); got != "both,only-a,only-b" {
		t.Fatalf("first merged snapshot %q", got)
	}
	if err := b.Deregister(ctx, "only-b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := next(); got != "both,only-a" {
		t.Fatalf("after a leave in b: %q", got)
	}
	if err := c.Deregister(ctx, "both"); err != nil {
		t.Fatal(err)
	}
	if got, _ := next(); got != "only-a" {
		t.Fatalf("after a leave everywhere: %q", got)
	}
}

func iterPull(seq iter.Seq2[[]discovery.Instance, error]) (func() (string, error), func()) {
	next, stop := iter.Pull2(seq)
	return func() (string, error) {
		ins, err, ok := next()
		if !ok {
			return "(ended)", nil
		}
		return testsrv.IDs(ins), err
	}, stop
}

// discovery.backend: composite opens the registries discovery.backends
// lists, by URL.
func TestOpenFromConfig(t *testing.T) {
	url := testsrv.Redis(t)
	c := discovery.DefaultConfig()
	c.Backend, c.Backends, c.Prefix = "composite", []string{"memory://", url}, testsrv.RedisPrefix(t, url)
	r, err := discovery.Open(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Register(context.Background(), testsrv.Instance("x", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Discover(context.Background(), discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "x" {
		t.Fatalf("Discover = %s, %v", testsrv.IDs(got), err)
	}
	for _, tc := range []struct {
		backends []string
		want     string
	}{
		{nil, "discovery.backends: list the registries to join"},
		{[]string{"nonsense"}, `discovery.backends[0] "nonsense": want a URL`},
		{[]string{"composite://x"}, "a composite cannot hold a composite"},
		{[]string{"consul://x"}, `discovery.backends[0]: discovery.backend "consul": the backend's package is not linked`},
		{[]string{"memory://", "http://127.0.0.1:8500"}, `discovery.backends[1] "http://127.0.0.1:8500": the scheme names the backend (redis://…, nats://…, etcd://…, consul://…, memory://); for the Consul agent at http://127.0.0.1:8500 write consul://127.0.0.1:8500`},
		{[]string{"https://127.0.0.1:8501"}, `discovery.backends[0] "https://127.0.0.1:8501": the scheme names the backend (redis://…, nats://…, etcd://…, consul://…, memory://); a composite reaches a Consul agent over plain http only`},
	} {
		c.Backends = tc.backends
		if _, err := discovery.Open(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("backends %v: %v, want %q", tc.backends, err, tc.want)
		}
	}
}

// failing is a registry that cannot be reached, whose Watch goes on
// yielding its error every 50 ms, as a backend's does, until ctx ends.
type failing struct{ down }

func (failing) Watch(ctx context.Context, _ discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		for ctx.Err() == nil {
			if !yield(nil, errors.New("down")) {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// silent is a registry whose Watch yields nothing, as one that has not
// answered yet.
type silent struct{ down }

func (silent) Watch(ctx context.Context, _ discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(func([]discovery.Instance, error) bool) { <-ctx.Done() }
}

// watch runs r's Watch of the users until the test ends and sends the
// ids of each snapshot it yields; errors are left out.
func watch(t *testing.T, r discovery.Registry) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	snaps := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err != nil {
				continue
			}
			select {
			case snaps <- testsrv.IDs(ins):
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return snaps
}

// While one registry is down or has not answered, Watch yields what the
// others hold, as Discover does.
func TestWatchWhileARegistryIsDown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		held  []string
		other discovery.Registry
		want  string
	}{
		{"down, the other holds x", []string{"x"}, failing{}, "x"},
		{"not answering, the other holds x", []string{"x"}, silent{}, "x"},
		{"down, the other holds none", nil, failing{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := memory.New(time.Minute)
			for _, id := range tc.held {
				if err := a.Register(context.Background(), testsrv.Instance(id, "1.0.0")); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case got := <-watch(t, composite.New(a, tc.other)):
				if got != tc.want {
					t.Fatalf("first snapshot %q, want %q", got, tc.want)
				}
			case <-time.After(time.Second):
				t.Fatalf("no snapshot in 1s, want %q", tc.want)
			}
		})
	}
}

// Watch yields no empty snapshot while a registry has not answered: that
// registry may hold instances.
func TestWatchYieldsNoEmptySnapshotBeforeEveryRegistryAnswered(t *testing.T) {
	a := memory.New(time.Minute)
	snaps := watch(t, composite.New(a, silent{}))
	select {
	case got := <-snaps:
		t.Fatalf("snapshot %q while a registry has not answered", got)
	case <-time.After(200 * time.Millisecond):
	}
	if err := a.Register(context.Background(), testsrv.Instance("x", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-snaps:
		if got != "x" {
			t.Fatalf("snapshot %q, want x", got)
		}
	case <-time.After(time.Second):
		t.Fatal("no snapshot in 1s after x registered")
	}
}
