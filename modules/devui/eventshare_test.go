package devui_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/titantest"
)

// An event that the monitor shows, matched by several subscriptions, is
// rendered once for all of them on the goroutine that emits it, not once
// for each. Not parallel: it measures the allocations of the process.
func TestEventRenderedOncePerEvent(t *testing.T) {
	app, base := startUI(t)
	f := openFeed(t, base)
	patterns := []string{"a.b.c", ">", "a.>", "a.b.>", "*.b.c", "a.*.c", "a.b.*", "*.*.c", "*.b.*", "a.*.*", "*.*.*", "*.>"} // each matches a.b.c
	for _, p := range patterns {
		f.subscribe(p, "")
	}
	payload := strings.Repeat("y", devui.MaxEventPayload-64) // as much as the monitor shows
	emit := func() uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := app.Netron().Emit(context.Background(), "a.b.c", payload); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		for range patterns {
			ev, _ := f.next()["event"].(map[string]any)
			if ev["payload"] != payload {
				t.Fatalf("the feed sent %v, want the payload", ev)
			}
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	emit() // the feed's buffers grow once
	// The payload's rendering, once, and a short head for each message.
	if n, limit := emit(), uint64(4*devui.MaxEventPayload); n > limit {
		t.Errorf("emitting a payload of %d KiB to %d subscriptions allocated %d KiB, want at most %d KiB: it was rendered for each",
			len(payload)>>10, len(patterns), n>>10, limit>>10)
	}
}

// The same through a remote app's peer (titan dev): an event that the
// pages of several monitors subscribed to is rendered once on the
// goroutine that reads it from the peer, not once for each. Not
// parallel: it measures the allocations of the process.
func TestRemoteEventRenderedOncePerEvent(t *testing.T) {
	app, _ := startUI(t, "netron.listen=http://127.0.0.1:0,tcp://127.0.0.1:0")
	addr := app.Addr(t, "tcp")
	p := titantest.Dial(t, addr)
	base := remoteUI(t, p, addr)
	feeds := make([]*feed, 12)
	for i := range feeds {
		feeds[i] = openFeed(t, base)
		feeds[i].subscribe("big", "")
	}
	// Called after the monitors' handlers: the peer calls an event's
	// handlers in the order they subscribed.
	delivered := make(chan struct{}, 1)
	unsubscribe, err := p.Subscribe(context.Background(), "big", func(context.Context, netron.Event) { delivered <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer unsubscribe()
	payload := strings.Repeat("y", devui.MaxEventPayload-64) // as much as the monitor shows
	emit := func() uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := app.Netron().Emit(context.Background(), "big", payload); err != nil {
			t.Fatal(err)
		}
		<-delivered
		runtime.ReadMemStats(&after)
		for _, f := range feeds {
			ev, _ := f.next()["event"].(map[string]any)
			if ev["payload"] != payload {
				t.Fatalf("the feed sent %v, want the payload", ev)
			}
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	emit() // the feeds' buffers grow once
	// The event's encoding, its decoding by the peer, the payload's
	// rendering once, and a short head for each message.
	if n, limit := emit(), uint64(10*devui.MaxEventPayload); n > limit {
		t.Errorf("a payload of %d KiB from the remote app to %d monitors allocated %d KiB, want at most %d KiB: it was rendered for each",
			len(payload)>>10, len(feeds), n>>10, limit>>10)
	}
}
