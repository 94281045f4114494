package http

import (
	"testing"
	"time"
)

// A request of a batch is cut by the batch's time only when that time
// ends it at least a millisecond (the unit its message gives) before its
// own timeout: the requests of a parallel batch that start microseconds
// after the first, with the same timeout, are not cut, and so are
// answered as the first is ("Request timed out after 300ms"), not some
// one way and some the other.
func TestBatchClockCutIsConsistent(t *testing.T) {
	c := &batchClock{limit: 300 * time.Millisecond}
	if d, cut := c.timeout(300 * time.Millisecond); cut || d != 300*time.Millisecond {
		t.Fatalf("first request: %v cut %v, want 300ms not cut", d, cut)
	}
	// A request that starts 50µs after the first.
	c.deadline = c.deadline.Add(-50 * time.Microsecond)
	if d, cut := c.timeout(300 * time.Millisecond); cut || d > 300*time.Millisecond || d < 299*time.Millisecond {
		t.Errorf("a request starting microseconds later: %v cut %v, want not cut, at most 300ms", d, cut)
	}
	// One the batch's time cuts by a millisecond or more is cut.
	c.deadline = time.Now().Add(100 * time.Millisecond)
	if d, cut := c.timeout(300 * time.Millisecond); !cut || d > 100*time.Millisecond {
		t.Errorf("a request with 100ms of the batch left: %v cut %v, want at most 100ms, cut", d, cut)
	}
}
