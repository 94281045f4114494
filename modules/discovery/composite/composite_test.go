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
	} {
		c.Backends = tc.backends
		if _, err := discovery.Open(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("backends %v: %v, want %q", tc.backends, err, tc.want)
		}
	}
}
