package netron_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A local subscription's handler is called by each Emit on its own
// goroutine (the Events doc): an Emit does not wait for the handler to
// finish another goroutine's event, so one slow event does not hold up the
// emitters of the others.
func TestNetronHandlerCalledByEachEmit(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	var got sync.Map
	unsub, err := n.Subscribe(ctx, "local.news", func(_ context.Context, e netron.Event) {
		got.Store(e.Payload, true)
		if e.Payload == 1 {
			close(entered)
			<-release
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	first := make(chan error, 1)
	go func() { first <- n.Emit(ctx, "local.news", 1) }()
	<-entered
	second := make(chan error, 1)
	go func() { second <- n.Emit(ctx, "local.news", 2) }()
	select {
	case err := <-second:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an Emit waited for the handler to finish another goroutine's event")
	}
	if _, ok := got.Load(2); !ok {
		t.Error("Emit returned before its handler got the event")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
}

// A local handler may emit an event its own subscription matches: it is
// called again at once, on the same goroutine, not left waiting for
// itself.
func TestNetronHandlerEmitsToItself(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	unsub, err := n.Subscribe(context.Background(), "local.>", func(ctx context.Context, e netron.Event) {
		i := e.Payload.(int)
		got = append(got, i)
		if i < 3 {
			if err := n.Emit(ctx, "local.again", i+1); err != nil {
				t.Error(err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	done := make(chan error, 1)
	go func() { done <- n.Emit(context.Background(), "local.news", 1) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Emit from within the handler did not return within 5s")
	}
	if len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("the handler got %v, want [1 2 3]", got)
	}
}
