package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
)

// The instances Discover and Watch return are the caller's: changing
// their addresses or metadata changes nothing in the registry, as
// changing the instance given to Register after the call changes nothing.
func TestResultsAreTheCallers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := memory.New(time.Minute)
	in := testsrv.Instance("a", "1.0.0")
	in.Metadata = map[string]string{"zone": "eu"}
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	q := discovery.Query{Service: "users"}
	spoil := func(ins []discovery.Instance) {
		ins[0].Addrs[0] = "tcp://spoiled:1"
		ins[0].Metadata["zone"] = "spoiled"
	}
	check := func(what string) {
		t.Helper()
		got, err := r.Discover(ctx, q)
		if err != nil || len(got) != 1 {
			t.Fatalf("Discover after %s = %v, %v", what, got, err)
		}
		if got[0].Addrs[0] != "tcp://10.0.0.1:7070" || got[0].Metadata["zone"] != "eu" {
			t.Errorf("after %s the registry holds addrs %v, metadata %v; want tcp://10.0.0.1:7070, zone eu", what, got[0].Addrs, got[0].Metadata)
		}
	}

	got, err := r.Discover(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	spoil(got)
	check("changing a result of Discover")

	if err := r.Register(ctx, in); err != nil { // as it was
		t.Fatal(err)
	}
	for ins, err := range r.Watch(ctx, q) {
		if err != nil {
			t.Fatal(err)
		}
		spoil(ins)
		break
	}
	check("changing a snapshot of Watch")
}

// A watcher that changes a snapshot Watch yielded still sees the next
// change of the registry: Watch compares what the registry holds with
// what it yielded, not with the caller's copy.
func TestWatchSeesChangesAfterTheCallerChangedASnapshot(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := memory.New(time.Minute)
	in := testsrv.Instance("a", "1.0.0")
	in.Metadata = map[string]string{"zone": "eu"}
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	snaps := make(chan []discovery.Instance)
	go func() {
		for ins, err := range r.Watch(ctx, discovery.Query{Service: "users"}) {
			if err != nil {
				continue
			}
			select {
			case snaps <- ins:
			case <-ctx.Done():
				return
			}
		}
	}()
	first := <-snaps
	first[0].Metadata["zone"] = "us" // the caller's own use of its copy
	in.Metadata = map[string]string{"zone": "us"}
	if err := r.Register(ctx, in); err != nil { // the instance moves to us
		t.Fatal(err)
	}
	select {
	case got := <-snaps:
		if got[0].Metadata["zone"] != "us" {
			t.Fatalf("snapshot with metadata %v, want zone us", got[0].Metadata)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the move of the instance to zone us was not yielded within 2s")
	}
}
