package cache_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/cache"
)

// heapBytes returns the bytes the heap holds after a collection.
func heapBytes() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// waitFor waits up to five seconds for cond: otter evicts on its own
// goroutines, a little after the writes that fill it.
func waitFor(cond func() bool) {
	for deadline := time.Now().Add(5 * time.Second); !cond() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBytesStayWithinBudget: a flood of calls with distinct large
// arguments, each kept, leaves the cache holding no more than its byte
// budget, by its own count and by the heap's.
func TestBytesStayWithinBudget(t *testing.T) {
	const budget = 4 << 20
	for _, method := range []string{
		"size",   // a large key, a small result
		"prices", // a large key, and a result that holds the argument
	} {
		t.Run(method, func(t *testing.T) {
			var runs atomic.Int64
			c := cache.New(0, cache.WithMaxBytes(budget))
			defer c.Close()
			call := serve(t, c, &runs)
			before := heapBytes()
			// 19 MiB of arguments; a result with its key takes
			// under the 256 KiB (a sixteenth of the budget) a result
			// may take.
			const calls, size = 200, 96 << 10
			for i := range calls {
				doc := fmt.Sprintf("%08d", i) + strings.Repeat("x", size)
				if _, err := call("ada", "catalog@1.0.0", method, doc); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(func() bool { return c.Stats().Bytes <= budget })
			st := c.Stats()
			grew := heapBytes() - before
			t.Logf("%d calls of %d KiB: %d results, %d KiB counted, the heap grew by %d KiB",
				calls, size>>10, st.Entries, st.Bytes>>10, grew>>10)
			if st.Bytes > budget || st.Bytes < budget/4 {
				t.Errorf("the cache counts %d bytes, want between a quarter of its budget and its budget, %d", st.Bytes, budget)
			}
			if grew > 2*budget {
				t.Errorf("the heap grew by %d KiB, want at most twice the budget, %d KiB", grew>>10, 2*budget>>10)
			}
			if runs.Load() != calls {
				t.Errorf("the method ran %d times, want %d", runs.Load(), calls)
			}
		})
	}
}

// TestSizeStillCapsCount: the number given to New caps the results kept
// however small they are.
func TestSizeStillCapsCount(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(10)
	defer c.Close()
	call := serve(t, c, &runs)
	for i := range 100 {
		if _, err := call("ada", "calc@1.0.0", "add", i, 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(func() bool { return c.Stats().Entries <= 10 })
	if got := c.Stats().Entries; got > 10 {
		t.Fatalf("the cache holds %d results, want at most 10", got)
	}
}

// TestLargeResultsAreNotKept: a call whose arguments or result would take
// more than a sixteenth of the budget runs the method every time and
// leaves nothing in the cache.
func TestLargeResultsAreNotKept(t *testing.T) {
	const budget = 1 << 20 // a result may take 64 KiB
	for _, tc := range []struct {
		name, method string
		arg          any
	}{
		{"large arguments", "size", strings.Repeat("x", 100<<10)},
		{"large result", "items", 5000}, // about 150 KiB encoded
	} {
		t.Run(tc.name, func(t *testing.T) {
			var runs atomic.Int64
			c := cache.New(0, cache.WithMaxBytes(budget))
			defer c.Close()
			call := serve(t, c, &runs)
			for range 2 {
				if _, err := call("ada", "catalog@1.0.0", tc.method, tc.arg); err != nil {
					t.Fatal(err)
				}
			}
			if runs.Load() != 2 {
				t.Errorf("the method ran %d times, want 2 (not kept)", runs.Load())
			}
			if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 || st.Misses != 2 {
				t.Errorf("Stats = %+v, want two misses and nothing held", st)
			}
			// A small call of the same method is kept.
			if _, err := call("ada", "catalog@1.0.0", "items", 1); err != nil {
				t.Fatal(err)
			}
			if st := c.Stats(); st.Entries != 1 || st.Bytes <= 0 {
				t.Errorf("after a small call Stats = %+v, want one result held", st)
			}
		})
	}
}

func TestWithMaxBytesString(t *testing.T) {
	if got, want := cache.WithMaxBytes(8<<20).String(), "cache.WithMaxBytes(8388608)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
