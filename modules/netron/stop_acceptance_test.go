package netron_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Stop while calls keep arriving: every call either completes or fails
// with unavailable, and Stop returns within its bound.
func TestAcceptanceStopUnderLoad(t *testing.T) {
	for round := range 20 {
		s, _ := netronServer(t, "mem", netron.Config{}, nil)
		p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for ctx.Err() == nil {
					_, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2)
					if err != nil {
						if c := netron.CodeOf(err); c != netron.CodeUnavailable {
							t.Errorf("round %d: call during stop: %v", round, err)
						}
						return
					}
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err := s.n.Stop(sctx); err != nil {
			t.Errorf("round %d: Stop: %v", round, err)
		}
		scancel()
		wg.Wait()
		cancel()
	}
}
