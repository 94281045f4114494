package netron

import (
	"fmt"
	"sync"
	"time"
)

// Request timeouts of a second or more (the default RequestTimeout is 5 s)
// are enforced by one sweeper for the process instead of a timer per call:
// a timer's Reset and Stop and the select over its channel were ~10 % of
// the CPU of a unary call. The sweeper ticks every sweepTick while a
// connection that has made such a call is open, and fails the calls whose
// deadline has passed: a timeout fires between its duration and one tick
// later. Shorter timeouts keep a timer each, as precise as before. Either
// way the timeout counts from when the call is queued.
const (
	sweepTick = 50 * time.Millisecond
	coarseMin = time.Second
)

var sweeper struct {
	mu      sync.Mutex
	tables  map[*pendingTable]struct{}
	running bool
}

// epoch is where deadlines are counted from (monotonic clock).
var epoch = time.Now()

// due returns the deadline of a call that starts now and may take timeout,
// in nanoseconds since epoch.
func due(timeout time.Duration) int64 { return int64(time.Since(epoch) + timeout) }

// sweep registers t with the sweeper (once; not after forget).
func (t *pendingTable) sweep() {
	sweeper.mu.Lock()
	defer sweeper.mu.Unlock()
	if t.swept.Load() || t.forgotten {
		return
	}
	t.swept.Store(true)
	if sweeper.tables == nil {
		sweeper.tables = map[*pendingTable]struct{}{}
	}
	sweeper.tables[t] = struct{}{}
	if !sweeper.running {
		sweeper.running = true
		go sweepLoop()
	}
}

// forget takes t off the sweeper for good (its connection has ended).
func (t *pendingTable) forget() {
	sweeper.mu.Lock()
	t.forgotten = true
	delete(sweeper.tables, t)
	sweeper.mu.Unlock()
}

// sweepLoop ticks until no table is registered.
func sweepLoop() {
	tk := time.NewTicker(sweepTick)
	defer tk.Stop()
	var tables []*pendingTable
	for range tk.C {
		now := int64(time.Since(epoch))
		sweeper.mu.Lock()
		if len(sweeper.tables) == 0 {
			sweeper.running = false
			sweeper.mu.Unlock()
			return
		}
		tables = tables[:0]
		for t := range sweeper.tables {
			tables = append(tables, t)
		}
		sweeper.mu.Unlock()
		for i, t := range tables {
			t.expire(now)
			tables[i] = nil
		}
	}
}

// expire fails the calls of t whose deadline has passed.
func (t *pendingTable) expire(now int64) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, pc := range s.m {
			if pc.due != 0 && pc.due <= now {
				delete(s.m, id)
				pc.ch <- response{err: NewError(CodeDeadlineExceeded, fmt.Errorf("no answer within %v", pc.timeout)), expired: true}
			}
		}
		s.mu.Unlock()
	}
}
