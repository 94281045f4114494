package session

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/compress"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

const (
	// A queued buffer is counted at what it holds: its capacity and
	// bufOverhead for the node; an item appended to a shared buffer at its
	// length and partOverhead (its entries in the writer's batch and the
	// transport's vector).
	bufOverhead  = 384
	partOverhead = 48
	// ReserveBytes is what a queue may always hold, whatever its Budget:
	// a connection with little queued is served while others that do not
	// read hold the rest.
	ReserveBytes = 64 << 10
	// A batch is written in pieces of at most flushBytes or flushMessages
	// (the writev limit), so that what the transport copies stays small and
	// what is written is released as it goes.
	flushBytes    = 256 << 10
	flushMessages = 1024
)

// FrameTooLargeError is the error of a message larger than the queue's
// frame limit; the message is not sent.
type FrameTooLargeError struct{ Size, Limit int }

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("packet of %d bytes exceeds the frame limit of %d", e.Size, e.Limit)
}

// Budget bounds the bytes queued by all the queues that share it (the
// connections of one Netron): over Max, a queue holding more than
// ReserveBytes makes its senders wait. Safe for concurrent use.
type Budget struct {
	max     int64
	bytes   atomic.Int64
	room    atomic.Pointer[chan struct{}] // closed when a write makes room
	waiters atomic.Int32
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget {
	b := &Budget{max: max}
	b.room.Store(newRoom())
	return b
}

// Queued returns the bytes queued on every queue of the budget.
func (b *Budget) Queued() int64 { return b.bytes.Load() }

// Limits are the bounds of one Queue.
type Limits struct {
	// MaxBytes is what the queue holds before its senders wait.
	MaxBytes int64
	// MaxFrameSize is the largest message Send takes.
	MaxFrameSize int
	// StallTimeout is how long senders may wait for room, or a Flush for
	// what is queued, while no write completes before the queue reports a
	// stalled peer.
	StallTimeout time.Duration
}

// Queue is the send queue of one connection: a lock-free stack that the
// writer (Run) empties in one swap and writes oldest first, in batches, so
// the goroutines that send on one connection do not contend for a lock and
// their messages leave together. What is queued counts, in bytes, against
// the queue's MaxBytes and its Budget until it is written; senders over a
// bound wait for room. Safe for concurrent use; Run runs on one goroutine.
type Queue struct {
	t       transport.Conn
	lim     Limits
	budget  *Budget
	stalled func(waited time.Duration, queued int64)

	head       atomic.Pointer[Buf]
	bytes      atomic.Int64 // queued, until written
	err        atomic.Pointer[error]
	done       chan struct{} // closed by Close
	closeOnce  sync.Once
	room       atomic.Pointer[chan struct{}] // closed when a write makes room (see waitRoom)
	waiters    atomic.Int32                  // senders waiting for room, and flushers
	flushers   atomic.Int32                  // Flush calls waiting
	written    atomic.Uint64                 // writes completed
	sentMsgs   atomic.Uint64                 // messages written
	sentBytes  atomic.Uint64                 // and their bytes
	stallArmed atomic.Bool                   // a stall check is pending (see watchStall)
	stallMark  atomic.Uint64                 // written when the stall check was armed
	stallTimer atomic.Pointer[time.Timer]
	wake       chan struct{}

	deflate atomic.Pointer[deflater] // set when the peer decodes envelopes
}

// deflater is how a Queue compresses: messages of min bytes or more, with
// a, when that makes them smaller.
type deflater struct {
	c   *compress.Codec
	a   compress.Algorithm
	min int
}

// SetDeflate makes the queue send the messages of min bytes or more that
// are encoded by Send, SendPacket and AppendItem compressed with a (see
// package compress), when that makes them an eighth smaller or more. The
// frame limit applies to a message before compression. Call it once the
// peer has announced that it decodes a; a of compress.None turns it off.
func (q *Queue) SetDeflate(c *compress.Codec, a compress.Algorithm, min int) {
	if a == compress.None {
		q.deflate.Store(nil)
		return
	}
	q.deflate.Store(&deflater{c: c, a: a, min: max(min, 1)})
}

// compressed returns the envelope of msg in a buffer of its own, or nil
// when the queue does not compress msg.
func (q *Queue) compressed(msg []byte) *Buf {
	d := q.deflate.Load()
	if d == nil || len(msg) < d.min {
		return nil
	}
	w := GetBuf()
	b, ok := d.c.Compress(w.B[:0], d.a, msg)
	w.B = b
	if !ok {
		PutBuf(w)
		return nil
	}
	return w
}

// NewQueue returns the queue of messages to write to t. stalled is called
// (from a timer's goroutine) when senders waited lim.StallTimeout for room
// while no write completed: the peer reads nothing; the caller closes the
// connection.
func NewQueue(t transport.Conn, lim Limits, budget *Budget, stalled func(waited time.Duration, queued int64)) *Queue {
	q := &Queue{t: t, lim: lim, budget: budget, stalled: stalled, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	q.room.Store(newRoom())
	return q
}

// Sent returns the messages written and their bytes (without the
// transport's own framing).
func (q *Queue) Sent() (msgs, bytes uint64) { return q.sentMsgs.Load(), q.sentBytes.Load() }

// Count counts a message of n bytes written to the transport outside the
// queue (the dialling side's handshake).
func (q *Queue) Count(n int) {
	q.sentMsgs.Add(1)
	q.sentBytes.Add(uint64(n))
}

// Queued returns the bytes queued and not yet written.
func (q *Queue) Queued() int64 { return q.bytes.Load() }

// Err returns the error Close was given, or nil while the queue is open.
func (q *Queue) Err() error {
	if e := q.err.Load(); e != nil {
		return *e
	}
	return nil
}

// Close ends the queue: later sends fail with err, senders waiting for room
// wake and fail, and Run returns, releasing what is still queued. Only the
// first call counts.
func (q *Queue) Close(err error) {
	q.closeOnce.Do(func() {
		q.err.Store(&err)
		close(q.done)
		if t := q.stallTimer.Load(); t != nil {
			t.Stop()
		}
	})
}

func (q *Queue) closed() bool { return q.err.Load() != nil }

// Send queues an encoded message after checking it against the frame
// limit (a *FrameTooLargeError otherwise, and w is released). The queue
// owns w afterwards. It blocks while the queue is full.
func (q *Queue) Send(w *Buf) error {
	w, err := q.prepare(w)
	if err != nil {
		return err
	}
	return q.Enqueue(w)
}

// TrySend is Send with TryEnqueue's drop instead of its wait: while the
// queue is full it releases w and returns false and no error.
func (q *Queue) TrySend(w *Buf) (queued bool, err error) {
	w, err = q.prepare(w)
	if err != nil {
		return false, err
	}
	return q.TryEnqueue(w)
}

// prepare checks w against the frame limit (a *FrameTooLargeError, and w
// released) and returns it compressed when the compression takes it.
func (q *Queue) prepare(w *Buf) (*Buf, error) {
	if n := len(w.B); n > q.lim.MaxFrameSize {
		PutBuf(w)
		return nil, &FrameTooLargeError{Size: n, Limit: q.lim.MaxFrameSize}
	}
	if z := q.compressed(w.B); z != nil {
		PutBuf(w)
		return z, nil
	}
	return w, nil
}

// SendPacket encodes pkt and queues it as Send does.
func (q *Queue) SendPacket(pkt *protocol.Packet) error {
	w := GetBuf()
	var err error
	if w.B, err = protocol.AppendPacket(w.B, pkt); err != nil {
		PutBuf(w)
		return err
	}
	return q.Send(w)
}

// SendRaw queues one message, unchecked; the queue owns b afterwards.
func (q *Queue) SendRaw(b []byte) error { return q.Enqueue(&Buf{B: b}) }

// Enqueue puts w on the queue without checking its size: a lock-free stack
// the writer empties in one swap (and reverses: the order of the pushes is
// kept). It blocks while the queue is full: over Limits.MaxBytes, or over
// ReserveBytes while the Budget is spent. What w holds counts until it is
// written.
func (q *Queue) Enqueue(w *Buf) error {
	if q.bytes.Load() > ReserveBytes && q.full() {
		q.waitRoom()
	}
	return q.push(w)
}

// TryEnqueue is Enqueue without the wait, for a message that may be
// dropped rather than hold up its sender: while the queue is full it
// releases w and returns false and no error.
func (q *Queue) TryEnqueue(w *Buf) (queued bool, err error) {
	if q.bytes.Load() > ReserveBytes && q.full() && !q.closed() {
		PutBuf(w)
		return false, nil
	}
	err = q.push(w)
	return err == nil, err
}

// push puts w on the queue, full or not.
func (q *Queue) push(w *Buf) error {
	if e := q.err.Load(); e != nil {
		PutBuf(w)
		return *e
	}
	w.counted = cap(w.B) + bufOverhead
	q.charge(int64(w.counted))
	for {
		head := q.head.Load()
		w.next = head
		if q.head.CompareAndSwap(head, w) {
			break
		}
	}
	if q.closed() { // the writer may have stopped before the push
		q.drop()
		return nil
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

// Appender is what a stream's producer keeps between its items (see
// AppendItem): the buffer its last item went out in, and where the next is
// encoded. One producer goroutine uses it; Release it when the stream ends.
type Appender struct {
	open    *Buf   // the queued buffer the next item may join
	gen     uint64 // open's generation
	scratch *Buf   // where the next item is encoded
}

// Release gives the appender's scratch buffer back.
func (a *Appender) Release() {
	if a.scratch != nil {
		PutBuf(a.scratch)
		a.scratch = nil
	}
	a.open = nil
}

// AppendItem sends a stream item: appended to the buffer the stream's last
// item went out in when the writer has not taken it yet (so a producer
// that yields items faster than the writer writes costs one queue entry
// and one buffer per batch), else in a buffer of its own that later items
// may join.
//
// The item is encoded into the appender's scratch buffer first: encoding
// may run the item's own code (an error's Error method), which must not
// run, or panic, while the buffer is closed to the writer. Items of
// countStep bytes or more, and items sent while the queue is closed, take
// Enqueue's path, which waits for room and reports the end. It returns the
// size of the item's packet, uncompressed.
func (q *Queue) AppendItem(a *Appender, pkt *protocol.Packet) (int, error) {
	if a.scratch == nil {
		a.scratch = GetBuf() // given back by Release
	}
	b, err := protocol.AppendPacket(a.scratch.B[:0], pkt)
	a.scratch.B = b[:0]
	if err != nil {
		return 0, err
	}
	size := len(b)
	if size > q.lim.MaxFrameSize {
		return 0, &FrameTooLargeError{Size: size, Limit: q.lim.MaxFrameSize}
	}
	if z := q.compressed(b); z != nil {
		a.open = nil
		return size, q.Enqueue(z)
	}
	if w := a.open; w != nil && len(b) < countStep && !q.closed() && lockOpen(w, a.gen) {
		if w.parts == 0 {
			w.ends[0], w.parts = len(w.B), 1
		}
		w.B = append(w.B, b...)
		w.ends[w.parts] = len(w.B)
		w.parts++
		w.uncounted += len(b) + partOverhead
		full := w.parts == maxParts || len(w.B) >= maxSharedSize
		if w.uncounted >= countStep || full {
			q.charge(int64(w.uncounted))
			w.counted += w.uncounted
			w.uncounted = 0
			// Over the limit, the next item goes through Enqueue, which
			// waits for room: appended items exceed it by less than
			// countStep per open buffer.
			full = full || q.full()
		}
		if full {
			a.open = nil
		}
		w.state.Store(a.gen<<2 | stOpen)
		w.mu.Unlock()
		return size, nil
	}
	// A buffer of its own: a copy of a small item, which later items may
	// join; a large item's scratch buffer itself (a new one takes its place).
	a.open = nil
	if len(b) >= countStep {
		w := a.scratch
		a.scratch = GetBuf()
		w.B = b
		return size, q.Enqueue(w)
	}
	w := GetBuf()
	w.B = append(w.B, b...)
	// The generation is read before the buffer is queued: once queued it
	// may be written and reused at any time.
	w.shared = true
	a.open, a.gen = w, w.state.Load()>>2
	return size, q.Enqueue(w)
}

// charge counts n bytes more (or fewer, when negative) as queued on the
// queue and its budget.
func (q *Queue) charge(n int64) {
	q.bytes.Add(n)
	q.budget.bytes.Add(n)
}

// full reports whether senders must wait for room.
func (q *Queue) full() bool {
	n := q.bytes.Load()
	return n > ReserveBytes && (n > q.lim.MaxBytes || q.budget.bytes.Load() > q.budget.max)
}

// waitRoom waits until the queue is no longer full or is closed (TCP
// back-pressure reaches senders this way). While senders wait and no write
// completes for Limits.StallTimeout, the queue reports a stalled peer.
func (q *Queue) waitRoom() {
	b := q.budget
	q.waiters.Add(1)
	b.waiters.Add(1)
	defer func() {
		q.waiters.Add(-1)
		b.waiters.Add(-1)
	}()
	for !q.closed() {
		// The channels are loaded before the condition is checked: a
		// writer that makes room after the check closes them.
		mine, all := q.room.Load(), b.room.Load()
		if !q.full() {
			return
		}
		q.watchStall()
		select {
		case <-*mine:
		case <-*all:
		case <-q.done:
		}
	}
}

// roomMade wakes the senders waiting for room, on this queue and on the
// others of the budget, once there is room: while the queue is still full
// after a write, waking them would only send them back to sleep.
func (q *Queue) roomMade() {
	b := q.budget
	if q.waiters.Load() > 0 && !q.full() {
		broadcast(&q.room)
	}
	if b.waiters.Load() > 0 && b.bytes.Load() <= b.max {
		broadcast(&b.room)
	}
}

// broadcast closes the channel in ch after putting a fresh one in its
// place: whoever waits on the old one wakes.
func broadcast(ch *atomic.Pointer[chan struct{}]) {
	fresh := make(chan struct{})
	close(*ch.Swap(&fresh))
}

func newRoom() *chan struct{} {
	ch := make(chan struct{})
	return &ch
}

// watchStall arms the stall check unless it is armed.
func (q *Queue) watchStall() {
	if !q.stallArmed.CompareAndSwap(false, true) {
		return
	}
	q.stallMark.Store(q.written.Load())
	if t := q.stallTimer.Load(); t != nil {
		t.Reset(q.lim.StallTimeout)
		return
	}
	// Stored before it is armed: checkStall re-arms it through the field.
	t := time.AfterFunc(time.Hour, q.checkStall)
	t.Stop()
	q.stallTimer.Store(t)
	if !q.closed() { // else closed meanwhile: Close did not see the timer
		t.Reset(q.lim.StallTimeout)
	}
}

// checkStall reports a stalled peer when no write completed since the
// stall check was armed and senders still wait for room, or a Flush
// still waits for what is queued; else it re-arms while they wait.
func (q *Queue) checkStall() {
	if q.closed() {
		return
	}
	now := q.written.Load()
	if now == q.stallMark.Load() && (q.waiters.Load() > 0 && q.full() || q.flushers.Load() > 0 && q.bytes.Load() > 0) {
		q.stalled(q.lim.StallTimeout, q.bytes.Load())
		return
	}
	if q.waiters.Load() > 0 {
		q.stallMark.Store(now)
		q.stallTimer.Load().Reset(q.lim.StallTimeout)
		return
	}
	q.stallArmed.Store(false)
	// A sender that began to wait after the load above armed nothing.
	if q.waiters.Load() > 0 {
		q.watchStall()
	}
}

// Flush waits until everything queued is written, the queue is closed or
// ctx ends. While it waits and no write completes for Limits.StallTimeout
// (a peer that reads nothing, with less queued than makes senders wait),
// the queue reports a stalled peer, as for senders waiting for room.
func (q *Queue) Flush(ctx context.Context) {
	q.waiters.Add(1)
	q.flushers.Add(1)
	defer func() {
		q.flushers.Add(-1)
		q.waiters.Add(-1)
	}()
	for {
		room := q.room.Load()
		if q.bytes.Load() == 0 || q.closed() {
			return
		}
		q.watchStall()
		select {
		case <-*room:
		case <-ctx.Done():
			return
		case <-q.done:
			return
		}
	}
}

// drop releases what waits in a closed queue. The writer calls it when it
// stops, and so does a sender that queued after the end: every buffer is
// taken once.
func (q *Queue) drop() {
	released := int64(0)
	for w := q.head.Swap(nil); w != nil; {
		next := w.next
		if w.shared {
			takeShared(w)
		}
		released += int64(w.counted)
		PutBuf(w)
		w = next
	}
	if released != 0 {
		q.charge(-released)
		q.roomMade()
	}
}

// gather lets the goroutines that are ready to send queue their messages
// before the writer takes the queue, so that they leave in one write: it
// yields while the queue keeps growing, a few rounds at most (one cheap
// yield when nobody else is sending). It is the technique of grpc-go's
// loopy writer, which yields once before flushing a small batch, and it
// is measured: without it, 64 callers on one connection get 117k unary
// calls/s instead of 248–272k (bench netron-tcp, 32 B, alternated runs),
// as each answer leaves in a write of its own.
func (q *Queue) gather() {
	n := q.bytes.Load()
	for range 4 {
		runtime.Gosched()
		m := q.bytes.Load()
		if m == n {
			return
		}
		n = m
	}
}

// Run writes what is queued until the queue is closed or a write fails,
// then releases what is left. A failed write is given to failed, which
// must Close the queue (with the error its senders are to get) before it
// returns, so that nothing is queued after the release.
func (q *Queue) Run(failed func(error)) {
	defer q.drop()
	var (
		taken []*Buf
		batch [][]byte
	)
	for {
		select {
		case <-q.wake:
		case <-q.done:
			return
		}
		q.gather()
		// Take the whole stack; it holds the newest message first.
		taken = taken[:0]
		for w := q.head.Swap(nil); w != nil; w = w.next {
			if w.shared {
				takeShared(w)
			}
			taken = append(taken, w)
		}
		// Write oldest first, a piece at a time; what a piece held is
		// released once it is written.
		batch = batch[:0]
		size, from := 0, len(taken)
		for i := len(taken) - 1; i >= 0; i-- {
			w := taken[i]
			if w.parts == 0 {
				batch = append(batch, w.B)
			} else {
				start := 0
				for _, end := range w.ends[:w.parts] {
					batch = append(batch, w.B[start:end])
					start = end
				}
			}
			size += len(w.B)
			if size < flushBytes && len(batch) < flushMessages && i > 0 {
				continue
			}
			err := q.t.WriteMessages(batch...)
			if err == nil {
				q.sentMsgs.Add(uint64(len(batch)))
				q.sentBytes.Add(uint64(size))
			}
			clear(batch)
			batch = batch[:0]
			released := int64(0)
			for j := i; j < from; j++ {
				released += int64(taken[j].counted)
				PutBuf(taken[j])
				taken[j] = nil
			}
			from, size = i, 0
			q.charge(-released)
			q.written.Add(1)
			q.roomMade()
			if err != nil {
				for j := range i {
					q.charge(-int64(taken[j].counted))
					PutBuf(taken[j])
					taken[j] = nil
				}
				failed(err)
				return
			}
		}
		if cap(taken) > 4096 { // a burst: do not keep its slices
			taken, batch = nil, nil
		}
	}
}
