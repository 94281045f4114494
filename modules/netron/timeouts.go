package netron

import (
	"fmt"
	"sync"
	"time"
)

// Request timeouts of a second or more (the default RequestTimeout is 5 s)
// are enforced by one sweeper per Netron instead of a timer per call:
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

// sweeper fails the expired calls of the pending tables registered with
// it. Its goroutine runs while a table is registered, and ends at the first
// tick without one.
type sweeper struct {
	mu      sync.Mutex
	tables  map[*pendingTable]struct{}
	running bool
}

// epoch is where deadlines are counted from (monotonic clock).
var epoch = time.Now()

// due returns the deadline of a call that starts now and may take timeout,
// in nanoseconds since epoch.
func due(timeout time.Duration) int64 { return int64(time.Since(epoch) + timeout) }

// sweep registers t with its sweeper (once; not after forget).
func (t *pendingTable) sweep() {
	sw := t.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if t.swept.Load() || t.forgotten {
		return
	}
	t.swept.Store(true)
	if sw.tables == nil {
		sw.tables = map[*pendingTable]struct{}{}
	}
	sw.tables[t] = struct{}{}
	if !sw.running {
		sw.running = true
		go sw.loop()
	}
}

// forget takes t off its sweeper for good (its connection has ended).
func (t *pendingTable) forget() {
	sw := t.sw
	sw.mu.Lock()
	t.forgotten = true
	delete(sw.tables, t)
	sw.mu.Unlock()
}

// loop ticks until no table is registered.
func (sw *sweeper) loop() {
	tk := time.NewTicker(sweepTick)
	defer tk.Stop()
	var tables []*pendingTable
	for range tk.C {
		now := int64(time.Since(epoch))
		sw.mu.Lock()
		if len(sw.tables) == 0 {
			sw.running = false
			sw.mu.Unlock()
			return
		}
		tables = tables[:0]
		for t := range sw.tables {
			tables = append(tables, t)
		}
		sw.mu.Unlock()
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
