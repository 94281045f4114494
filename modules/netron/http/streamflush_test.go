package http_test

import (
	"bufio"
	"context"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Lockstep yields 0..n-1, each only once the test has read the one
// before over HTTP: an item that stayed in the server's buffer would
// stop the stream.
type Lockstep struct{ read chan int }

func (l *Lockstep) Run(ctx context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
			select {
			case got := <-l.read:
				if got != i {
					yield(0, netron.Errorf(netron.CodeInternal, "the test read %d after %d was sent", got, i))
					return
				}
			case <-time.After(5 * time.Second):
				yield(0, netron.Errorf(netron.CodeDeadlineExceeded, "item %d did not reach the client in 5 s", i))
				return
			case <-ctx.Done():
				return
			}
		}
	}
}

// TestStreamItemsLeaveWhenProduced: the flushes of a streamed answer are
// coalesced, but an item is never kept while the method waits: each item
// of a stream whose next item depends on the client reaches it.
func TestStreamItemsLeaveWhenProduced(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := &Lockstep{read: make(chan int)}
	if err := n.Register("lockstep", "1.0.0", l, netron.WithHTTP("/api/lockstep")); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	for _, accept := range []string{"application/x-ndjson", "text/event-stream"} {
		t.Run(accept, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, addr+"/api/lockstep/run", strings.NewReader("[5]"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", accept)
			resp, err := client(t).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			next, start := 0, time.Now()
			for sc.Scan() {
				line := strings.TrimPrefix(sc.Text(), "data: ")
				if line == "" || strings.HasPrefix(line, "event: ") || strings.HasPrefix(line, "{") {
					continue
				}
				if line != strconv.Itoa(next) {
					t.Fatalf("read %q, want %d", line, next)
				}
				select {
				case l.read <- next:
				case <-time.After(10 * time.Second):
					t.Fatalf("the method did not wait for item %d", next)
				}
				next++
			}
			if next != 5 {
				t.Fatalf("read %d items, want 5 (%v)", next, sc.Err())
			}
			// Five round trips, each waiting at most one flush period.
			if d := time.Since(start); d > time.Second {
				t.Errorf("five items took %v", d)
			}
		})
	}
}
