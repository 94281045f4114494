package session

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

const pendingShards = 32

// Pending maps the request ids of one connection to the callers waiting
// for their answers, sharded to keep lock contention low under many
// concurrent calls. Call Init before use. Safe for concurrent use.
type Pending struct {
	shards [pendingShards]struct {
		mu sync.Mutex
		m  map[uint32]*Waiter
	}
	sw        *Sweeper    // fails calls whose timeout passed
	swept     atomic.Bool // registered with the sweeper
	forgotten bool        // the connection ended (guarded by sw.mu)
}

// Waiter is a call awaiting its answer: it arrives on C, once.
type Waiter struct {
	C       chan Response
	due     int64         // deadline in ns since epoch; 0: none
	timeout time.Duration // for the expiry's message
}

// Swept reports whether the call's timeout is the sweeper's to enforce
// (no timer of the caller's is needed).
func (w *Waiter) Swept() bool { return w.due != 0 }

// Response is the answer to a call, or why there is none.
type Response struct {
	Packet  protocol.Packet
	Payload protocol.RawValue
	Frame   *[]byte // pool holder of the frame the payload aliases
	Err     error
	Expired bool // the sweeper failed the call: its timeout passed
}

// Init readies the table; sw enforces its timeouts of CoarseMin or more.
func (t *Pending) Init(sw *Sweeper) {
	t.sw = sw
	for i := range t.shards {
		t.shards[i].m = map[uint32]*Waiter{}
	}
}

var waiterPool = sync.Pool{New: func() any { return &Waiter{C: make(chan Response, 1)} }}

// Done recycles a waiter whose answer was received (its channel is empty
// and nobody else holds it).
func (t *Pending) Done(w *Waiter) { waiterPool.Put(w) }

// Add registers a call awaiting its answer; a timeout of CoarseMin or more
// is left to the sweeper (Waiter.Swept), a shorter one to the caller.
func (t *Pending) Add(id uint32, timeout time.Duration) *Waiter {
	w := waiterPool.Get().(*Waiter)
	w.due, w.timeout = 0, 0
	if timeout >= CoarseMin {
		if !t.swept.Load() {
			t.sweep()
		}
		w.due, w.timeout = due(timeout), timeout
	}
	s := &t.shards[id%pendingShards]
	s.mu.Lock()
	s.m[id] = w
	s.mu.Unlock()
	return w
}

// Take removes the call id and returns its waiter, or nil when it is not
// waiting (answered, expired or never made).
func (t *Pending) Take(id uint32) *Waiter {
	s := &t.shards[id%pendingShards]
	s.mu.Lock()
	w := s.m[id]
	delete(s.m, id)
	s.mu.Unlock()
	return w
}

// Resolve hands the answer pkt to the call of its id, if one waits.
func (t *Pending) Resolve(pkt protocol.Packet, payload protocol.RawValue, frame *[]byte) (waited bool) {
	if w := t.Take(pkt.ID); w != nil {
		w.C <- Response{Packet: pkt, Payload: payload, Frame: frame}
		return true
	}
	return false
}

// FailAll fails every call waiting, with err.
func (t *Pending) FailAll(err error) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, w := range s.m {
			w.C <- Response{Err: err}
			delete(s.m, id)
		}
		s.mu.Unlock()
	}
}

// Request timeouts of a second or more (the default RequestTimeout is 5 s)
// are enforced by one Sweeper per Netron instead of a timer per call: a
// timer's Reset and Stop and the select over its channel were ~10 % of the
// CPU of a unary call. The sweeper ticks every SweepTick while a
// connection that has made such a call is open, and fails the calls whose
// deadline has passed: a timeout fires between its duration and one tick
// later. Shorter timeouts keep a timer each, as precise as before. Either
// way the timeout counts from when the call is queued.
const (
	SweepTick = 50 * time.Millisecond
	CoarseMin = time.Second
)

// Sweeper fails the expired calls of the Pending tables registered with
// it. Its goroutine runs while a table is registered, and ends at the
// first tick without one, so nothing of it outlives its owner's
// connections.
type Sweeper struct {
	expired func(timeout time.Duration) error
	mu      sync.Mutex
	tables  map[*Pending]struct{}
	running bool
}

// NewSweeper returns a sweeper that fails an expired call with
// expired(its timeout).
func NewSweeper(expired func(timeout time.Duration) error) *Sweeper {
	return &Sweeper{expired: expired}
}

// epoch is where deadlines are counted from (monotonic clock).
var epoch = time.Now()

// due returns the deadline of a call that starts now and may take timeout,
// in nanoseconds since epoch.
func due(timeout time.Duration) int64 { return int64(time.Since(epoch) + timeout) }

// sweep registers t with its sweeper (once; not after Forget).
func (t *Pending) sweep() {
	sw := t.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if t.swept.Load() || t.forgotten {
		return
	}
	t.swept.Store(true)
	if sw.tables == nil {
		sw.tables = map[*Pending]struct{}{}
	}
	sw.tables[t] = struct{}{}
	if !sw.running {
		sw.running = true
		go sw.loop()
	}
}

// Forget takes t off its sweeper for good (its connection has ended).
func (t *Pending) Forget() {
	sw := t.sw
	sw.mu.Lock()
	t.forgotten = true
	delete(sw.tables, t)
	sw.mu.Unlock()
}

// loop ticks until no table is registered.
func (sw *Sweeper) loop() {
	tk := time.NewTicker(SweepTick)
	defer tk.Stop()
	var tables []*Pending
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
			t.expire(now, sw.expired)
			tables[i] = nil
		}
	}
}

// expire fails the calls of t whose deadline has passed.
func (t *Pending) expire(now int64, expired func(time.Duration) error) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, w := range s.m {
			if w.due != 0 && w.due <= now {
				delete(s.m, id)
				w.C <- Response{Err: expired(w.timeout), Expired: true}
			}
		}
		s.mu.Unlock()
	}
}
