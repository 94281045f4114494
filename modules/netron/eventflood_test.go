package netron_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A peer that emits faster than the local handlers run gets
// resource_exhausted once its waiting events reach a cap (by count or by
// bytes), instead of the server queueing them without bound; the events it
// was not refused are all delivered, in order, and other peers are served
// throughout.
func TestEventFloodIsBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cfg     netron.Config
		payload string
		accept  int // events accepted while the handler is blocked
	}{
		{"by count", netron.Config{MaxQueuedEventsPerPeer: 8}, "x", 8},
		// Each event holds its ~16 KiB frame: four fit in 64 KiB.
		{"by bytes", netron.Config{MaxQueuedEventBytesPerPeer: 64 << 10}, strings.Repeat("y", 16<<10), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := netron.New(tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(context.Background())
			if err := n.Register("echo", "1.0.0", Echo{}); err != nil {
				t.Fatal(err)
			}
			addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			flooder, err := netron.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer flooder.Close()
			// The server subscribes to the flooder's "flood" events with a
			// handler that blocks: the flooder's emits wait for it.
			var served *netron.Peer
			for deadline := time.Now().Add(5 * time.Second); served == nil && time.Now().Before(deadline); {
				if ps := n.Peers(); len(ps) == 1 {
					served = ps[0]
				} else {
					time.Sleep(time.Millisecond)
				}
			}
			if served == nil {
				t.Fatal("the server never saw the flooder")
			}
			release := make(chan struct{})
			var mu sync.Mutex
			var got []int
			unsub, err := served.Subscribe(ctx, "flood", func(_ context.Context, e netron.Event) {
				<-release
				var m map[string]any
				if err := e.Decode(&m); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got = append(got, int(m["i"].(int64)))
				mu.Unlock()
			})
			if err != nil {
				t.Fatal(err)
			}
			defer unsub()
			other, err := netron.Dial(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()

			accepted, refused := 0, 0
			for i := range 200 {
				err := flooder.Task(ctx, nil, netron.TaskEmit, "flood", map[string]any{"i": i, "pad": tc.payload})
				switch {
				case err == nil:
					if refused > 0 {
						t.Fatalf("event %d accepted after %d were refused, with the handler still blocked", i, refused)
					}
					accepted++
				case netron.CodeOf(err) == netron.CodeResourceExhausted:
					if !strings.Contains(err.Error(), "wait for their handlers") {
						t.Fatalf("refusal %q does not say why", err)
					}
					refused++
				default:
					t.Fatalf("emit %d: %v", i, err)
				}
			}
			// The first event is with its blocked handler, the rest wait.
			if accepted < tc.accept || accepted > tc.accept+1 || refused != 200-accepted {
				t.Fatalf("accepted %d and refused %d of 200, want about %d accepted", accepted, refused, tc.accept)
			}
			if s, err := netron.CallUnary[string](ctx, other, "echo@1.0.0", "echo", "still here"); err != nil || s != "still here" {
				t.Fatalf("another peer during the flood: %q, %v", s, err)
			}
			close(release)
			deadline := time.Now().Add(5 * time.Second)
			for {
				mu.Lock()
				done := len(got) == accepted
				mu.Unlock()
				if done || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, v := range got {
				if v != i {
					t.Fatalf("delivered %v, want 0..%d in order", got, accepted-1)
				}
			}
			if len(got) != accepted {
				t.Fatalf("delivered %d events, want the %d accepted", len(got), accepted)
			}
			// With the handlers done, the peer may emit again.
			if err := flooder.Task(ctx, nil, netron.TaskEmit, "flood", map[string]any{"i": accepted, "pad": "z"}); err != nil {
				t.Fatalf("emit after the queue drained: %v", err)
			}
		})
	}
}
