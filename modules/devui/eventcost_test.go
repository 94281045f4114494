package devui_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// An event far larger than the monitor shows costs the code that emits
// it little per subscription: its payload is not rendered whole only to
// be left out. Not parallel: it measures the allocations of the process.
func TestLargeEventNotRendered(t *testing.T) {
	app, base := startUI(t)
	f := openFeed(t, base)
	patterns := []string{"big", "*", ">"} // each matches the event
	for _, p := range patterns {
		f.subscribe(p, "")
	}
	many := make([]any, 1<<20) // a million small numbers
	for i := range many {
		many[i] = i % 10
	}
	for _, tc := range []struct {
		name    string
		payload any
	}{
		{"a 16 MiB string", strings.Repeat("z", 16<<20)},
		{"a list of a million numbers", many},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := app.Netron().Emit(context.Background(), "big", tc.payload); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		// The rendering of one such payload is megabytes; the notes that
		// replace it, and what runs beside, far less.
		if n := after.TotalAlloc - before.TotalAlloc; n > 512<<10 {
			t.Errorf("%s: emitting it to %d subscriptions allocated %d KiB, want at most 512 KiB: the payload was rendered",
				tc.name, len(patterns), n>>10)
		}
		for range patterns {
			ev, _ := f.next()["event"].(map[string]any)
			if ev["payload"] != nil || !strings.Contains(ev["payloadError"].(string), "more than the monitor shows") {
				t.Errorf("%s: the feed sent payload of %d bytes, payloadError %v; want it left out", tc.name,
					len(fmt.Sprint(ev["payload"])), ev["payloadError"])
			}
		}
	}
}
