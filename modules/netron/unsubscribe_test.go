package netron_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// lateHandlers subscribes, with subscribe, a first handler that blocks
// until release is closed (started is closed once it runs) and a second
// one, which records in after whether it was called once unsubscribed was
// set; it returns the second's unsubscribe function.
func lateHandlers(subscribe func(netron.EventHandler) func(), started, release chan struct{}, unsubscribed, after *atomic.Bool) func() {
	subscribe(func(context.Context, netron.Event) {
		close(started)
		<-release
	})
	return subscribe(func(context.Context, netron.Event) {
		if unsubscribed.Load() {
			after.Store(true)
		}
	})
}

// A local handler is not called after its unsubscribe function returned,
// also for an event whose delivery had begun (another handler of it was
// running).
func TestNetronHandlerNotCalledAfterUnsubscribe(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	subscribe := func(h netron.EventHandler) func() {
		unsub, err := n.Subscribe(ctx, "late.news", h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsub)
		return unsub
	}
	started, release := make(chan struct{}), make(chan struct{})
	var unsubscribed, after atomic.Bool
	unsub := lateHandlers(subscribe, started, release, &unsubscribed, &after)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.Emit(ctx, "late.news", 1)
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the event was not delivered")
	}
	unsub()
	unsubscribed.Store(true)
	close(release)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery did not end")
	}
	if after.Load() {
		t.Fatal("a handler was called after its unsubscribe function returned")
	}
}

// The same holds for a handler of a peer's events.
func TestPeerHandlerNotCalledAfterUnsubscribe(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	subscribe := func(topic string, h netron.EventHandler) func() {
		unsub, err := p.Subscribe(ctx, topic, h)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(unsub)
		return unsub
	}
	started, release := make(chan struct{}), make(chan struct{})
	var unsubscribed, after atomic.Bool
	unsub := lateHandlers(func(h netron.EventHandler) func() { return subscribe("late.news", h) },
		started, release, &unsubscribed, &after)
	// The peer's events are delivered one at a time, in order: once this
	// later one is, the first one's delivery has ended.
	last := make(chan struct{})
	subscribe("late.end", func(context.Context, netron.Event) { close(last) })
	if err := s.n.Emit(ctx, "late.news", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the event was not delivered")
	}
	unsub()
	unsubscribed.Store(true)
	close(release)
	if err := s.n.Emit(ctx, "late.end", 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-last:
	case <-ctx.Done():
		t.Fatal("the later event was not delivered")
	}
	if after.Load() {
		t.Fatal("a peer's event handler was called after its unsubscribe function returned")
	}
}
