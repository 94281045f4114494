package nats_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Over NATS too, an instance streaming large items keeps to the caller's
// window in bytes: a caller that pauses while 64 KiB items arrive reads
// them all afterwards, instead of its stream ending with
// resource_exhausted once the items window (256 items, 16 MiB here) passes
// its maxStreamBytesPerPeer (2 MiB); and the instance ran ahead by about
// the window (1 MiB, 16 items) only.
func TestStreamOfLargeItemsToASlowCaller(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	_, calc := startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{MaxStreamBytesPerPeer: 2 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n, size = 100, 64 << 10
	st, err := p.OpenStream(ctx, "calculator@1.0.0", "blob", n, size)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(300 * time.Millisecond)
	if y := calc.produced.Load(); y > 20 {
		t.Errorf("the instance yielded %d items of 64 KiB before the caller read one; the window is 1 MiB (16 items)", y)
	}
	got := 0
	for {
		var s string
		err := st.Recv(&s)
		if errors.Is(err, io.EOF) && got == n {
			break
		}
		if err != nil {
			t.Fatalf("read %d of %d items of 64 KiB, then: %v", got, n, err)
		}
		if len(s) != size {
			t.Fatalf("item %d has %d bytes", got, len(s))
		}
		got++
	}
}

// A stream item larger than the caller's frame limit (its maxFrameSize,
// below the NATS max_payload) ends the stream with resource_exhausted
// naming the sizes, as an answer that large fails its call, instead of
// being dropped and reported as lost items; the connection goes on.
func TestStreamItemAboveTheCallersFrameLimit(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	startInstance(t, url, "1.0.0")
	p := dial(t, url, netron.Config{MaxFrameSize: 4096})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := p.OpenStream(ctx, "calculator@1.0.0", "blob", 3, 8000)
	if err != nil {
		t.Fatal(err)
	}
	var v string
	err = s.Recv(&v)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "4096") {
		t.Fatalf("a stream item of 8000 bytes for a caller of frame limit 4096: %v, want resource_exhausted naming the limit", err)
	}
	if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatalf("a call after: %v", err)
	}
}

// An instance sends no stream item above its own frame limit (its
// maxFrameSize, below the NATS max_payload): the stream ends with
// resource_exhausted instead, as an answer that large is replaced.
func TestStreamItemAboveTheInstancesFrameLimit(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{MaxFrameSize: 64 << 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calc := newCalc()
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", calc)
	p := dial(t, addr, netron.Config{})
	s, err := p.OpenStream(ctx, "calculator@1.0.0", "blob", 2, 100<<10)
	if err != nil {
		t.Fatal(err)
	}
	var v string
	err = s.Recv(&v)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "65536") {
		t.Fatalf("a stream item of 100 KiB from an instance of frame limit 64 KiB: %d bytes, %v; want resource_exhausted naming the limit", len(v), err)
	}
}
