package netron

import (
	"context"
	"testing"
	"time"
)

// waitUntil polls cond until it holds, failing the test after 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// queuedEvents returns the events p holds: queued, and the one being
// delivered.
func queuedEvents(p *Peer) int {
	p.emu.Lock()
	defer p.emu.Unlock()
	return p.evCount
}

// A subscription's handler gets the events in the order the peer sent
// them, also across a reconnection: the events of the lost connection
// that still wait for the handler come before those of the connection
// that replaced it, sent after them.
func TestEventsOfLostConnectionFirst(t *testing.T) {
	t.Parallel()
	n, addr := ServeForTest(t, Config{}, "tcp://127.0.0.1:0", nil)
	p := DialForTest(t, addr, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	release := make(chan struct{})
	got := make(chan int, 16)
	unsub, err := p.Subscribe(ctx, "news", func(_ context.Context, e Event) {
		var i int
		_ = e.Decode(&i)
		got <- i
		if i == 0 {
			<-release
		}
		time.Sleep(5 * time.Millisecond) // a handler that does some work
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	const before = 4
	for i := range before {
		if err := n.Emit(ctx, "news", i); err != nil {
			t.Fatal(err)
		}
	}
	if i := <-got; i != 0 {
		t.Fatalf("first event %d, want 0", i)
	}
	old := p.cur.Load()
	waitUntil(t, "the first connection's events reach the peer", func() bool { return queuedEvents(p) == before })
	for _, sp := range n.Peers() {
		_ = sp.Close() // the connection ends: the peer reconnects and subscribes again
	}
	waitUntil(t, "the peer subscribes again on a new connection", func() bool {
		n.events.mu.RLock()
		defer n.events.mu.RUnlock()
		c := p.cur.Load()
		return c != nil && c != old && len(n.events.peers["news"]) == 1
	})
	if err := n.Emit(ctx, "news", before); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the new connection's event reaches the peer", func() bool { return queuedEvents(p) == before+1 })
	close(release)
	for want := 1; want <= before; want++ {
		select {
		case i := <-got:
			if i != want {
				t.Fatalf("event %d delivered after event %d; want the events in the order they were sent (%d next)", i, want-1, want)
			}
		case <-ctx.Done():
			t.Fatalf("event %d never delivered", want)
		}
	}
}
