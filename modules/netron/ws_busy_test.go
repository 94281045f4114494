package netron_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// callWaiter answers after the duration it is given.
type callWaiter struct{}

func (callWaiter) Wait(ctx context.Context, d time.Duration, pad string) (int, error) {
	select {
	case <-time.After(d):
		return len(pad), nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestWSAtCallCapKeepsConnection: at MaxCallsPerPeer the engine stops reading a connection
// until a call ends. Over WebSocket the well-behaved client must keep its connection
// meanwhile: neither the keep-alive (whose pongs are not read) nor FrameTimeout (for a
// message that arrived at once, ahead of the read) may drop it. Each call
// holds the one slot for 700 ms, more than twice the keep-alive's ping and
// timeout and the frame timeout, so the calls behind it wait for long
// enough to trip either.
func TestWSAtCallCapKeepsConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr string
		cfg  netron.Config
		pads []int // the calls' padding; after the first, the rest 50 ms later, together
	}{
		{
			name: "KeepAlive",
			addr: "ws://127.0.0.1:0/?ping=200ms&pingTimeout=100ms",
			cfg:  netron.Config{MaxCallsPerPeer: 1},
			pads: []int{10, 10, 10, 10},
		},
		{
			name: "FrameTimeout",
			addr: "ws://127.0.0.1:0/?ping=0",
			cfg:  netron.Config{MaxCallsPerPeer: 1, FrameTimeout: 300 * time.Millisecond},
			pads: []int{10, 10000, 10000},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := netron.New(tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = n.Stop(context.Background()) })
			if err := n.Register("waiter", "1.0.0", callWaiter{}); err != nil {
				t.Fatal(err)
			}
			addr, err := n.Listen(context.Background(), tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			p := dialWith(t, addr, netron.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for i, pad := range tc.pads {
				if i == 1 {
					time.Sleep(50 * time.Millisecond) // the first call takes the slot
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := p.Call(ctx, "waiter@1.0.0", "wait", "700ms", strings.Repeat("p", pad)); err != nil {
						t.Errorf("call %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
		})
	}
}
