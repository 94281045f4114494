package netron_test

import (
	"context"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Holder's method waits, before it returns its stream, until five calls
// have arrived (or 200 ms have passed), then streams one item.
type Holder struct {
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (h *Holder) Hold(ctx context.Context) iter.Seq2[int, error] {
	h.mu.Lock()
	h.arrived++
	if h.arrived == 5 {
		close(h.all)
	}
	h.mu.Unlock()
	select {
	case <-h.all:
	case <-time.After(200 * time.Millisecond):
	case <-ctx.Done():
	}
	return func(yield func(int, error) bool) { yield(1, nil) }
}

// MaxStreamsPerPeer holds against stream calls that arrive together: the
// bound is checked and the stream counted in one step, before the method
// runs, so that five calls whose methods are all running at once cannot
// all pass a bound of two.
func TestStreamLimitUnderConcurrentCalls(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{MaxStreamsPerPeer: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("holder", "1.0.0", &Holder{all: make(chan struct{})}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	p := dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		opened  []*netron.Stream
		refused int
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := p.OpenStream(ctx, "holder@1.0.0", "hold")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				opened = append(opened, st)
			case netron.CodeOf(err) == netron.CodeResourceExhausted:
				refused++
			default:
				t.Errorf("OpenStream: %v", err)
			}
		}()
	}
	wg.Wait()
	for _, st := range opened {
		st.Close()
	}
	if len(opened) != 2 || refused != 3 {
		t.Fatalf("%d streams opened and %d refused with a bound of 2, want 2 and 3", len(opened), refused)
	}
}
