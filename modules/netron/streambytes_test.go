package netron_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// readItems opens producer.items(n, size) on p, waits pause before it reads
// the first item (the producer runs ahead meanwhile), then reads them all
// and returns how many it read and the error that ended the stream.
func readItems(t *testing.T, p *netron.Peer, n, size int, pause time.Duration) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := p.OpenStream(ctx, "producer@1.0.0", "items", n, size)
	if err != nil {
		t.Fatalf("OpenStream: %v", err)
	}
	defer st.Close()
	time.Sleep(pause)
	got := 0
	for {
		var s string
		err := st.Recv(&s)
		if err != nil {
			if got == n && errors.Is(err, io.EOF) {
				return got, nil
			}
			return got, err
		}
		if len(s) != size {
			t.Fatalf("item %d has %d bytes, want %d", got, len(s), size)
		}
		got++
	}
}

// A Go producer of large items keeps to the reader's window in bytes as
// well as in items: a reader that pauses while 256 KiB items arrive reads
// them all afterwards, instead of its stream ending with resource_exhausted
// once the items window (256 items, 64 MiB here) passes
// maxStreamBytesPerPeer (8 MiB).
func TestStreamOfLargeItemsToASlowReader(t *testing.T) {
	t.Parallel()
	s, prod := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{MaxStreamBytesPerPeer: 8 << 20})
	const n, size = 100, 256 << 10
	got, err := readItems(t, p, n, size, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("read %d of %d items of %d KiB, then: %v", got, n, size>>10, err)
	}
	// The producer ran ahead only as far as the byte window lets it:
	// it had yielded few items when the reader started (checked through
	// a second stream, paused the same way, below).
	prod.yielded.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.OpenStream(ctx, "producer@1.0.0", "items", n, size)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(300 * time.Millisecond)
	// The window is min(streamWindowBytes, maxStreamBytesPerPeer/2) = 4
	// MiB: 16 items, one more that passes it, one yielded and waiting.
	if y := prod.yielded.Load(); y > 20 {
		t.Errorf("the producer yielded %d items of 256 KiB before the reader read one; the window is 4 MiB (16 items)", y)
	}
}

// Windows in bytes never stall a stream: tiny items under a tiny bound,
// where the producer's count of a packet is above the reader's count of
// its item, still flow to the end.
func TestStreamByteWindowOfTinyItems(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{MaxStreamBytesPerPeer: 2048})
	const n = 3000
	got, err := readItems(t, p, n, 1, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("read %d of %d one-byte items, then: %v", got, n, err)
	}
}
