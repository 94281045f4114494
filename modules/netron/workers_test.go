package netron_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Gate holds every call until it is opened.
type Gate struct {
	in   chan struct{}
	open chan struct{}
}

func (g *Gate) Wait(ctx context.Context) (int, error) {
	g.in <- struct{}{}
	select {
	case <-g.open:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Calls are served by workers that outlive a call: calls one after the
// other reuse one worker, a peak of concurrent calls has one worker each
// (no more), and once the peak is over the workers exit by themselves, as
// they do when the Netron stops.
func TestWorkersFollowTheLoad(t *testing.T) {
	g := &Gate{in: make(chan struct{}, 100), open: make(chan struct{})}
	n, p := serveOnTCP(t, map[string]any{"gate": g, "calculator": &Calc{}}, netron.WithWorkerIdle(50*time.Millisecond))
	ctx := context.Background()
	for i := range 50 {
		if _, err := netron.CallUnary[int](ctx, p, "calculator@1.0.0", "add", i, 1); err != nil {
			t.Fatal(err)
		}
	}
	if w := netron.Workers(n); w > 2 {
		t.Fatalf("%d workers after 50 calls one after the other; want them to reuse one", w)
	}
	const peak = 20
	var wg sync.WaitGroup
	for range peak {
		wg.Go(func() {
			if _, err := netron.CallUnary[int](ctx, p, "gate@1.0.0", "wait"); err != nil {
				t.Error(err)
			}
		})
	}
	for range peak {
		<-g.in
	}
	if w := netron.Workers(n); w < peak || w > peak+2 {
		t.Fatalf("%d workers serving %d calls; want one each", w, peak)
	}
	close(g.open)
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for netron.Workers(n) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still running long after the peak", netron.Workers(n))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
