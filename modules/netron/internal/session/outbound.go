package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Credit is the window of a stream this side produces: the items its
// reader lets it send before it grants more (a Go reader grants as it
// reads; the producer waits in Acquire when the window is spent), and,
// when the reader announced one, the bytes it lets it have in flight.
//
// The reader grants items, not bytes: the producer keeps the cost of each
// item it sent (Sent) until the grant that covers it, oldest first, and
// sends while what it has in flight is under the byte window, so one item
// of any size goes out when nothing is in flight.
type Credit struct {
	n    atomic.Int64
	wake chan struct{} // a grant arrived (buffered: no wake-up is lost)

	bytes    int64        // the byte window; 0: items only (fixed by Init)
	inflight atomic.Int64 // the costs of the items sent and not yet granted back
	mu       sync.Mutex   // guards costs, head, ahead, list and released
	costs    []int64      // those costs, oldest first, from head
	head     int
	// ahead counts the items granted before Sent counted them (a grant
	// can overtake the count of an item already queued): Sent counts
	// nothing in flight for them.
	ahead    int64
	list     *costList // where costs came from (costLists), given back by Release
	released bool
}

// costList is the room of a Credit's costs, reused from stream to stream
// (each stream would otherwise grow a list of its own, in up to seven
// allocations for a hundred items).
type costList struct{ b []int64 }

var costLists = sync.Pool{New: func() any { return &costList{b: make([]int64, 0, 128)} }}

// Release gives the room of the costs back; the Credit counts no bytes
// after it (its stream has ended).
func (c *Credit) Release() {
	if c.bytes == 0 {
		return
	}
	c.mu.Lock()
	if c.list != nil {
		if cap(c.costs) <= 1<<16 {
			c.list.b = c.costs[:0]
			costLists.Put(c.list)
		}
		c.list = nil
	}
	c.costs, c.head, c.released = nil, 0, true
	c.mu.Unlock()
}

// ErrReaderIdle is Acquire's error when the reader granted nothing for the
// idle time.
var ErrReaderIdle = errors.New("the stream's reader granted no credit")

// MaxWindow is the most items a Credit's window holds: grants past it
// leave it at MaxWindow, so that a reader that grants without end (its
// grants come from the other peer) cannot wrap the count round to a
// negative window and stall the stream.
const MaxWindow = 1 << 31

// Init opens the window with n items (at most MaxWindow) and, when
// bytes > 0, that many bytes.
func (c *Credit) Init(n int, bytes int64) {
	c.wake = make(chan struct{}, 1)
	c.n.Store(min(int64(n), MaxWindow))
	c.bytes = max(bytes, 0)
}

// Grant adds n items to the window, up to MaxWindow in all, gives back
// the bytes of the n oldest items sent (a reader grants what it has read,
// in order) and wakes a waiting Acquire. A grant of n <= 0 does nothing.
func (c *Credit) Grant(n int) {
	if n <= 0 {
		return
	}
	add := min(int64(n), MaxWindow)
	for {
		v := c.n.Load() // at most MaxWindow: v+add cannot overflow
		if c.n.CompareAndSwap(v, min(v+add, MaxWindow)) {
			break
		}
	}
	if c.bytes > 0 {
		c.mu.Lock()
		for ; n > 0 && c.head < len(c.costs); n-- {
			c.inflight.Add(-c.costs[c.head])
			c.head++
		}
		c.ahead = min(c.ahead+int64(n), MaxWindow)
		if c.head == len(c.costs) {
			c.costs, c.head = c.costs[:0], 0
		}
		c.mu.Unlock()
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Granted is signalled (without loss: it holds one wake-up) when a grant
// arrives, for a producer that waits on more than Acquire does.
func (c *Credit) Granted() <-chan struct{} { return c.wake }

// Sent counts an item of cost bytes as in flight until the grant that
// covers it; nothing when the window has no bytes, or when that grant
// came first.
func (c *Credit) Sent(cost int64) {
	if c.bytes == 0 {
		return
	}
	c.mu.Lock()
	if c.released || c.ahead > 0 {
		if c.ahead > 0 {
			c.ahead-- // granted back already
		}
		c.mu.Unlock()
		return
	}
	if c.list == nil {
		c.list = costLists.Get().(*costList)
		c.costs = c.list.b[:0]
	}
	if c.head > 0 && len(c.costs) == cap(c.costs) {
		c.costs = append(c.costs[:0], c.costs[c.head:]...) // reuse the room granted back
		c.head = 0
	}
	c.costs = append(c.costs, cost)
	c.inflight.Add(cost)
	c.mu.Unlock()
}

// roomForBytes reports whether another item may go out under the byte
// window.
func (c *Credit) roomForBytes() bool {
	return c.bytes == 0 || c.inflight.Load() < c.bytes
}

// Take takes one item of the window if there is one and the bytes in
// flight leave room.
func (c *Credit) Take() bool {
	if !c.roomForBytes() {
		return false
	}
	for {
		v := c.n.Load()
		if v <= 0 {
			return false
		}
		if c.n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// Acquire waits for one item of the window, until ctx ends (its cause is
// returned) or idle passes with no grant (ErrReaderIdle), counted from the
// last grant.
func (c *Credit) Acquire(ctx context.Context, idle time.Duration) error {
	var timer *time.Timer
	for {
		if c.Take() {
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(idle)
			defer timer.Stop()
		}
		select {
		case <-c.wake:
			// A grant that leaves no room (the bytes of a large item
			// still in flight) is the reader's too: idle counts from it.
			timer.Reset(idle)
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timer.C:
			return ErrReaderIdle
		}
	}
}

// Outbounds is the table of the streams a connection produces, by stream
// id, at most a fixed number at once: Add checks the bound and files the
// stream in one step, so that concurrent stream calls cannot pass it.
type Outbounds[T any] struct {
	mu  sync.Mutex
	max int
	m   map[uint32]T
}

// NewOutbounds returns a table of at most max streams.
func NewOutbounds[T any](max int) *Outbounds[T] {
	return &Outbounds[T]{max: max, m: map[uint32]T{}}
}

// Add files v as stream id's; false, filing nothing, when the table holds
// its maximum.
func (o *Outbounds[T]) Add(id uint32, v T) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.m) >= o.max {
		return false
	}
	o.m[id] = v
	return true
}

// Get returns stream id's entry.
func (o *Outbounds[T]) Get(id uint32) (T, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.m[id]
	return v, ok
}

// Each calls f for every stream, under the table's lock.
func (o *Outbounds[T]) Each(f func(T)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, v := range o.m {
		f(v)
	}
}

// Remove forgets stream id.
func (o *Outbounds[T]) Remove(id uint32) {
	o.mu.Lock()
	delete(o.m, id)
	o.mu.Unlock()
}
