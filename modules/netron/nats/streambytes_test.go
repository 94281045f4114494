package nats_test

import (
	"context"
	"errors"
	"io"
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
