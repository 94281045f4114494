package nats_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Sizes is a service whose stream mixes small items with a large one.
type Sizes struct{}

// Mixed yields a small item, one of large bytes, then two small ones.
func (Sizes) Mixed(_ context.Context, large int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for _, size := range []int{16, large, 16, 16} {
			if !yield(strings.Repeat("m", size), nil) {
				return
			}
		}
	}
}

// Over NATS too, the instance's StreamIdleTimeout counts from the caller's
// last grant: a grant that leaves the byte window spent (a large item is
// still unread) shows the caller is reading. A caller that reads slowly,
// granting within the idle time each time, has its stream to the end
// instead of ended as idle once that time has passed in all.
func TestStreamIdleCountsFromTheLastGrant(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	const idle = 2 * time.Second
	n, err := netron.New(netron.Config{StreamIdleTimeout: idle}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, addr, "sizes", "1.0.0", Sizes{})
	// A grant for each item read; 64 KiB in flight at most, so the
	// instance waits after the large item until the caller has read it.
	p := dial(t, addr, netron.Config{StreamWindow: 2, StreamWindowBytes: 64 << 10})
	const large = 200 << 10
	s, err := p.OpenStream(ctx, "sizes@1.0.0", "mixed", large)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, size := range []int{16, large, 16, 16} {
		if i < 2 {
			// The first grant comes well within idle of the instance's
			// wait for credit, the second past idle from that wait.
			time.Sleep(idle * 6 / 10)
		}
		var v string
		if err := s.Recv(&v); err != nil {
			t.Fatalf("item %d, read %v after the last grant (the instance's idle time is %v): %v", i, idle*6/10, idle, err)
		}
		if len(v) != size {
			t.Fatalf("item %d has %d bytes, want %d", i, len(v), size)
		}
	}
	var v string
	if err := s.Recv(&v); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last item: %v, want io.EOF", err)
	}
}
