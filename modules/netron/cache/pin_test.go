package cache_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/cache"
)

// pageSize is the size of the page Pages reads for each call.
const pageSize = 1 << 20

// Pages answers with a few bytes cut from a large page it reads for each
// call: a string that shares the page's memory.
type Pages struct{}

// page returns a page of its own for i.
func page(i int) string { return string(rune('a'+i%26)) + strings.Repeat("x", pageSize-1) }

func (Pages) Title(_ context.Context, i int) (string, error) { return page(i)[:8], nil }

// Heading is a result that holds strings and nothing a caller could
// change: one kept as it is.
type Heading struct {
	Title string
	Level int
}

func (Pages) Heading(_ context.Context, i int) (Heading, error) {
	return Heading{Title: page(i)[:8], Level: 1}, nil
}

// TestKeptStringsDoNotPinWhatTheyWereCutFrom: a result that holds a
// string cut from a larger one takes, in the cache, the bytes its budget
// counts, not the whole of the larger string.
func TestKeptStringsDoNotPinWhatTheyWereCutFrom(t *testing.T) {
	for _, method := range []string{"title", "heading"} {
		t.Run(method, func(t *testing.T) {
			c := cache.New(100)
			defer c.Close()
			n := cachedNetron(t, c, "pages", Pages{})
			before := heapBytes()
			const calls = 32
			for i := range calls {
				if _, err := n.Invoke(context.Background(), invocation(t, "pages@1.0.0", method, i)); err != nil {
					t.Fatal(err)
				}
			}
			st := c.Stats()
			grew := heapBytes() - before
			t.Logf("%d results of %d KiB pages: %d kept, %d KiB counted, the heap grew by %d KiB",
				calls, pageSize>>10, st.Entries, st.Bytes>>10, grew>>10)
			if st.Entries != calls {
				t.Fatalf("%d results kept, want %d", st.Entries, calls)
			}
			if grew > calls*pageSize/4 {
				t.Fatalf("the heap grew by %d KiB for %d results counted as %d KiB: the kept results hold on to the pages they were cut from",
					grew>>10, calls, st.Bytes>>10)
			}
		})
	}
}
