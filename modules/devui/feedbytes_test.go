package devui_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/devui"
)

// A page that does not read holds at most devui.MaxFeedQueue bytes of
// queued messages, whatever the size of the events: an event too large to
// show is queued as its short note, not with the rendering of its payload
// behind it. Not parallel: it measures the heap.
func TestSlowPageHoldsBoundedBytes(t *testing.T) {
	app, base := startUI(t)
	f := openFeed(t, base)
	f.subscribe("big", "")
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	huge := strings.Repeat("z", 1<<20)                     // more than the monitor shows
	shown := strings.Repeat("y", devui.MaxEventPayload-64) // as much as it shows
	for range 300 {                                        // the socket's buffers fill, then the queue
		for _, payload := range []string{shown, huge} {
			if err := app.Netron().Emit(context.Background(), "big", payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	grown := int64(heap()) - int64(before)
	// The bound, the message being written, and the socket's buffers.
	if limit := int64(devui.MaxFeedQueue + 4<<20); grown > limit {
		t.Errorf("a page that does not read made the app hold %d MiB more, want at most %d MiB",
			grown>>20, limit>>20)
	}
	runtime.KeepAlive(f)
}
