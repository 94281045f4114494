package composite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/composite"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// slow is a registry whose Discover answers after a delay, as a remote
// one farther away does.
type slow struct {
	discovery.Registry
	delay time.Duration
}

func (s slow) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	time.Sleep(s.delay)
	return s.Registry.Discover(ctx, q)
}

// An instance that several registries hold, in different versions of its
// entry, is found as the first registry given holds it, whichever
// registry answers first.
func TestDiscoverPrefersTheFirstRegistry(t *testing.T) {
	ctx := context.Background()
	a, b := memory.New(time.Minute), memory.New(time.Minute)
	in := testsrv.Instance("x", "1.0.0")
	in.Metadata = map[string]string{"from": "a"}
	if err := a.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Metadata = map[string]string{"from": "b"}
	if err := b.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    *composite.Registry
		want string
	}{
		{"a given first, answering last", composite.New(slow{a, 100 * time.Millisecond}, b), "a"},
		{"b given first, answering last", composite.New(slow{b, 100 * time.Millisecond}, a), "b"},
		{"a given first, answering first", composite.New(a, slow{b, 100 * time.Millisecond}), "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Discover(ctx, discovery.Query{Service: "users"})
			if err != nil || len(got) != 1 {
				t.Fatalf("Discover = %v, %v", got, err)
			}
			if from := got[0].Metadata["from"]; from != tc.want {
				t.Errorf("found the entry of %s, want that of %s, the registry given first", from, tc.want)
			}
		})
	}
}

// Once Watch has yielded instances, the last of them leaving is yielded
// too (an empty snapshot), though a registry has still not answered: the
// watcher must not go on calling an instance that left.
func TestWatchYieldsTheLastLeaveWhileARegistryHasNotAnswered(t *testing.T) {
	a := memory.New(time.Minute)
	if err := a.Register(context.Background(), testsrv.Instance("x", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := watch(t, composite.New(a, silent{}))
	select {
	case got := <-snaps:
		if got != "x" {
			t.Fatalf("first snapshot %q, want x", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no snapshot in 2s, want x")
	}
	if err := a.Deregister(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-snaps:
		if got != "" {
			t.Fatalf("snapshot %q after x left, want none", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("x left, and no snapshot said so within 2s")
	}
}

// downLister is a registry that cannot be reached and can list, when it
// answers, the services it holds.
type downLister struct{ down }

func (downLister) Services(context.Context) ([]string, error) { return nil, errors.New("down") }

// Services lists what the registries that answer hold while another is
// down, as Discover finds their instances; it fails only when no registry
// that can list answers, naming each.
func TestServicesWhileARegistryIsDown(t *testing.T) {
	ctx := context.Background()
	a := memory.New(time.Minute)
	if err := a.Register(ctx, testsrv.Instance("x", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	for _, regs := range [][]discovery.Registry{{downLister{}, a}, {a, downLister{}}} {
		got, err := composite.New(regs...).Services(ctx)
		if err != nil || strings.Join(got, ",") != "users" {
			t.Errorf("Services with a registry down = %v, %v; want users", got, err)
		}
	}
	_, err := composite.New(downLister{}, down{}, downLister{}).Services(ctx)
	if err == nil || !strings.Contains(err.Error(), "registry 1 of 3: down") || !strings.Contains(err.Error(), "registry 3 of 3: down") {
		t.Errorf("Services with every lister down: %v, want the errors of registries 1 and 3", err)
	}
}
