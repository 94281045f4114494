package netron

import (
	"context"
	"slices"
	"testing"
	"time"
)

type adder struct{}

func (adder) Add(_ context.Context, a, b int) (int, error) { return a + b, nil }

// A connection that flaps before the restore of the reconnect before it
// has run (it waits for a restore in progress) lists each target to
// resolve again once, not once per flap.
func TestFlapsListATargetToResolveOnce(t *testing.T) {
	t.Parallel()
	n, addr := ServeForTest(t, Config{}, "tcp://127.0.0.1:0", map[string]any{"adder": adder{}})
	p := DialForTest(t, addr, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// A restore in progress holds restoreMu: each later one waits for it.
	p.restoreMu.Lock()
	defer p.restoreMu.Unlock()
	for range 3 {
		if _, err := p.Call(ctx, "adder", "add", 1, 2); err != nil {
			t.Fatal(err)
		}
		before := p.cur.Load()
		for _, sp := range n.Peers() {
			sp.Close()
		}
		for {
			if c := p.cur.Load(); c != nil && c != before && c.ctx.Err() == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("the peer did not reconnect")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	p.mu.Lock()
	targets := slices.Clone(p.toResolve)
	p.mu.Unlock()
	if len(targets) != 1 {
		t.Fatalf("after 3 flaps the targets to resolve again are %q, want adder once", targets)
	}
}
