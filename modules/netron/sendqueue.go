package netron

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// wbuf is one encoded message on its way out: a write buffer from bufPool
// and a node of the connection's send queue.
type wbuf struct {
	b      []byte
	next   *wbuf
	pooled bool

	// A buffer a stream's producer keeps appending its items to while it
	// waits in the queue (see appendItem) holds several messages: parts of
	// them, each ending at ends[i]; parts is 0 for a single message.
	// state is gen<<2 | st (st: 0 open, 1 being appended to, 2 taken by
	// the writer); gen changes each time the buffer is reused, so a
	// producer holding a buffer that has been written and reused since
	// cannot append to it.
	shared bool
	parts  int
	ends   [maxParts]int
	state  atomic.Uint64
	// mu is held by a producer while it appends and by the writer while it
	// takes the buffer, so the writer waits out an append in progress (a
	// short copy) instead of spinning.
	mu sync.Mutex
	// counted is what the queue's byte counts hold for this buffer (what
	// the writer takes off them once it is written); appended items are
	// counted countStep bytes at a time (uncounted until then), since the
	// counts are contended words.
	counted, uncounted int
}

const (
	maxParts      = 32
	countStep     = 1 << 10
	maxSharedSize = 16 << 10
	// A queued buffer is counted at what it holds: its capacity and
	// wbufOverhead for the node; an item appended to a shared buffer at its
	// length and partOverhead (its entries in the writer's batch and the
	// transport's vector).
	wbufOverhead = 384
	partOverhead = 48
	// reserveBytes is what a connection may always queue, whatever the
	// Netron's total: a connection with little queued is served while
	// others that do not read hold the rest.
	reserveBytes = 64 << 10
	// A batch is written in pieces of at most flushBytes or flushMessages
	// (the writev limit), so that what the transport copies stays small and
	// what is written is released as it goes.
	flushBytes    = 256 << 10
	flushMessages = 1024
	stOpen        = 0
	stAppending   = 1
	stTaken       = 2
)

// bufPool recycles the write buffers of encoded packets with their nodes,
// so sending allocates nothing.
var bufPool = sync.Pool{New: func() any { return &wbuf{b: make([]byte, 0, 512), pooled: true} }}

func getBuf() *wbuf {
	w := bufPool.Get().(*wbuf)
	w.reuse()
	return w
}

// reuse readies a buffer from the pool: empty, and open in the generation
// putBuf began.
func (w *wbuf) reuse() {
	w.b = w.b[:0]
	w.state.Store(w.state.Load() &^ 3)
}

// putBuf gives a written (or refused) buffer back to the pool.
func putBuf(w *wbuf) {
	if !w.pooled || cap(w.b) > 64<<10 {
		return
	}
	w.next = nil
	w.counted, w.uncounted = 0, 0
	if w.shared {
		w.retire()
	}
	bufPool.Put(w)
}

// releaseScratch gives a stream's scratch buffer back (see appendItem).
func (s *sendStream) releaseScratch() {
	if s.scratch != nil {
		putBuf(s.scratch)
		s.scratch = nil
	}
}

// retire ends a shared buffer's generation: taken until reused, so that a
// producer still holding it cannot append to it.
func (w *wbuf) retire() {
	w.state.Store((w.state.Load()>>2+1)<<2 | stTaken)
	w.shared, w.parts = false, 0
}

// appendItem sends a stream item: appended to the buffer the stream's last
// item went out in when the writer has not taken it yet (so a producer
// that yields items faster than the writer writes costs one queue entry
// and one buffer per batch), else in a buffer of its own that later items
// may join. Only the stream's producer goroutine calls it for s.
//
// The item is encoded into the stream's scratch buffer first: encoding
// may run the item's own code (an error's Error method), which must not
// run, or panic, while the buffer is closed to the writer. Items of
// countStep bytes or more, and items sent while the connection has ended,
// take the queue's own path, which waits for room and reports the end.
func (c *conn) appendItem(s *sendStream, pkt *protocol.Packet) error {
	if s.scratch == nil {
		s.scratch = getBuf() // given back by releaseScratch
	}
	b, err := protocol.AppendPacket(s.scratch.b[:0], pkt)
	s.scratch.b = b[:0]
	if err != nil {
		return err
	}
	if limit := c.p.n.cfg.MaxFrameSize; len(b) > limit {
		return NewError(CodeResourceExhausted, fmt.Errorf("packet of %d bytes exceeds the frame limit of %d", len(b), limit))
	}
	if w := s.open; w != nil && len(b) < countStep && c.werr.Load() == nil && lockOpen(w, s.gen) {
		if w.parts == 0 {
			w.ends[0], w.parts = len(w.b), 1
		}
		w.b = append(w.b, b...)
		w.ends[w.parts] = len(w.b)
		w.parts++
		w.uncounted += len(b) + partOverhead
		full := w.parts == maxParts || len(w.b) >= maxSharedSize
		if w.uncounted >= countStep || full {
			c.charge(int64(w.uncounted))
			w.counted += w.uncounted
			w.uncounted = 0
			// Over the limit, the next item goes through enqueue, which
			// waits for room: appended items exceed it by less than
			// countStep per open buffer.
			full = full || c.full()
		}
		if full {
			s.open = nil
		}
		w.state.Store(s.gen<<2 | stOpen)
		w.mu.Unlock()
		return nil
	}
	// A buffer of its own: a copy of a small item, which later items may
	// join; a large item's scratch buffer itself (a new one takes its place).
	s.open = nil
	if len(b) >= countStep {
		w := s.scratch
		s.scratch = getBuf()
		w.b = b
		return c.enqueue(w)
	}
	w := getBuf()
	w.b = append(w.b, b...)
	// The generation is read before the buffer is queued: once queued it
	// may be written and reused at any time.
	w.shared = true
	s.open, s.gen = w, w.state.Load()>>2
	return c.enqueue(w)
}

// sendRaw queues one message; the connection owns b afterwards. It blocks
// while the queue is full (see enqueue).
func (c *conn) sendRaw(b []byte) error { return c.enqueue(&wbuf{b: b}) }

// enqueue puts w on the send queue, a lock-free stack the writer empties
// in one swap (and reverses: the order of the pushes is kept), so the
// goroutines that send on one connection do not contend for a lock. It
// blocks while the queue is full: over Config.MaxQueuedBytesPerPeer, or
// over reserveBytes while the Netron's queues together hold more than
// Config.MaxQueuedBytes. What w holds counts until it is written.
func (c *conn) enqueue(w *wbuf) error {
	if c.qbytes.Load() > reserveBytes && c.full() {
		c.waitRoom()
	}
	if e := c.werr.Load(); e != nil {
		putBuf(w)
		return *e
	}
	w.counted = cap(w.b) + wbufOverhead
	c.charge(int64(w.counted))
	for {
		head := c.head.Load()
		w.next = head
		if c.head.CompareAndSwap(head, w) {
			break
		}
	}
	if c.werr.Load() != nil { // the writer may have stopped before the push
		c.dropQueue()
		return nil
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

// charge counts n bytes more (or fewer, when negative) as queued on the
// connection and on its Netron.
func (c *conn) charge(n int64) {
	c.qbytes.Add(n)
	c.p.n.qbytes.Add(n)
}

// full reports whether senders must wait for room.
func (c *conn) full() bool {
	q := c.qbytes.Load()
	return q > reserveBytes && (q > int64(c.p.n.cfg.MaxQueuedBytesPerPeer) || c.p.n.qbytes.Load() > c.p.n.cfg.MaxQueuedBytes)
}

// waitRoom waits until the queue is no longer full or the connection has
// ended (TCP back-pressure reaches senders this way). A connection whose
// senders wait while no write completes for Config.WriteStallTimeout is
// closed: its peer does not read.
func (c *conn) waitRoom() {
	n := c.p.n
	c.waiters.Add(1)
	n.roomWaiters.Add(1)
	defer func() {
		c.waiters.Add(-1)
		n.roomWaiters.Add(-1)
	}()
	for c.werr.Load() == nil {
		// The channels are loaded before the condition is checked: a
		// writer that makes room after the check closes them.
		mine, all := c.room.Load(), n.room.Load()
		if !c.full() {
			return
		}
		c.watchStall()
		select {
		case <-*mine:
		case <-*all:
		case <-c.ctx.Done():
		}
	}
}

// roomMade wakes the senders waiting for room, on this connection and on
// the others, once there is room: while the queue is still full after a
// write, waking them would only send them back to sleep.
func (c *conn) roomMade() {
	n := c.p.n
	if c.waiters.Load() > 0 && !c.full() {
		broadcast(&c.room)
	}
	if n.roomWaiters.Load() > 0 && n.qbytes.Load() <= n.cfg.MaxQueuedBytes {
		broadcast(&n.room)
	}
}

// broadcast closes the channel in ch after putting a fresh one in its
// place: whoever waits on the old one wakes.
func broadcast(ch *atomic.Pointer[chan struct{}]) {
	fresh := make(chan struct{})
	close(*ch.Swap(&fresh))
}

// newRoom returns a channel pointer for conn.room and Netron.room.
func newRoom() *chan struct{} {
	ch := make(chan struct{})
	return &ch
}

// watchStall arms the stall check unless it is armed.
func (c *conn) watchStall() {
	if !c.stallArmed.CompareAndSwap(false, true) {
		return
	}
	c.stallMark.Store(c.written.Load())
	if t := c.stallTimer.Load(); t != nil {
		t.Reset(c.p.n.cfg.WriteStallTimeout)
		return
	}
	// Stored before it is armed: checkStall re-arms it through the field.
	t := time.AfterFunc(time.Hour, c.checkStall)
	t.Stop()
	c.stallTimer.Store(t)
	if c.ctx.Err() == nil { // else closed meanwhile: close did not see the timer
		t.Reset(c.p.n.cfg.WriteStallTimeout)
	}
}

// checkStall closes the connection when no write completed since the
// stall check was armed and senders still wait; else it re-arms while
// they wait.
func (c *conn) checkStall() {
	if c.ctx.Err() != nil {
		return
	}
	now := c.written.Load()
	if now == c.stallMark.Load() && c.waiters.Load() > 0 && c.full() {
		timeout, queued := c.p.n.cfg.WriteStallTimeout, c.qbytes.Load()
		c.p.log.Warn("closing connection: the peer reads nothing", "waited", timeout, "queued_bytes", queued)
		c.close(NewError(CodeUnavailable, fmt.Errorf("the peer read nothing for %v while %d bytes waited to be written", timeout, queued)))
		return
	}
	if c.waiters.Load() > 0 {
		c.stallMark.Store(now)
		c.stallTimer.Load().Reset(c.p.n.cfg.WriteStallTimeout)
		return
	}
	c.stallArmed.Store(false)
	// A sender that began to wait after the load above armed nothing.
	if c.waiters.Load() > 0 {
		c.watchStall()
	}
}

// flush waits until everything queued on the connection is written, the
// connection ends or ctx ends.
func (c *conn) flush(ctx context.Context) {
	c.waiters.Add(1)
	defer c.waiters.Add(-1)
	for {
		room := c.room.Load()
		if c.qbytes.Load() == 0 || c.werr.Load() != nil {
			return
		}
		select {
		case <-*room:
		case <-ctx.Done():
			return
		case <-c.ctx.Done():
			return
		}
	}
}

// dropQueue releases what waits in the queue of a connection that has
// ended. The writer calls it when it stops, and so does a sender that
// queued after the end: every buffer is taken once.
func (c *conn) dropQueue() {
	released := int64(0)
	for w := c.head.Swap(nil); w != nil; {
		next := w.next
		if w.shared {
			takeShared(w)
		}
		released += int64(w.counted)
		putBuf(w)
		w = next
	}
	if released != 0 {
		c.charge(-released)
		c.roomMade()
	}
}

// send encodes and queues a packet.
func (c *conn) send(pkt *protocol.Packet) error {
	w := getBuf()
	var err error
	if w.b, err = protocol.AppendPacket(w.b, pkt); err != nil {
		putBuf(w)
		return err
	}
	return c.sendEncoded(w)
}

// sendEncoded checks an encoded packet against the frame limit and queues it.
func (c *conn) sendEncoded(w *wbuf) error {
	if n := len(w.b); n > c.p.n.cfg.MaxFrameSize {
		putBuf(w)
		return NewError(CodeResourceExhausted, fmt.Errorf("packet of %d bytes exceeds the frame limit of %d", n, c.p.n.cfg.MaxFrameSize))
	}
	return c.enqueue(w)
}

// gather lets the goroutines that are ready to send queue their packets
// before the writer takes the queue, so that they leave in one write: it
// yields while the queue keeps growing, a few rounds at most (one cheap
// yield when nobody else is sending). It is the technique of grpc-go's
// loopy writer, which yields once before flushing a small batch, and it
// is measured: without it, 64 callers on one connection get 117k unary
// calls/s instead of 248–272k (bench netron-tcp, 32 B, alternated runs),
// as each answer leaves in a write of its own.
func (c *conn) gather() {
	n := c.qbytes.Load()
	for range 4 {
		runtime.Gosched()
		m := c.qbytes.Load()
		if m == n {
			return
		}
		n = m
	}
}

// lockOpen locks w for an append when it is still open in generation gen
// (not taken by the writer, not reused since); it reports false, with w
// unlocked, otherwise.
func lockOpen(w *wbuf, gen uint64) bool {
	if w.state.Load() != gen<<2|stOpen { // taken or reused: no need to wait for the lock
		return false
	}
	w.mu.Lock()
	if w.state.Load() != gen<<2|stOpen {
		w.mu.Unlock()
		return false
	}
	w.state.Store(gen<<2 | stAppending)
	return true
}

// takeShared closes a shared buffer to its producer's appends, waiting
// out one in progress (a short copy) on the buffer's lock.
func takeShared(w *wbuf) {
	w.mu.Lock()
	w.state.Store(w.state.Load()&^3 | stTaken)
	w.mu.Unlock()
}

func (c *conn) writeLoop() {
	defer close(c.wdone)
	defer c.dropQueue()
	var (
		taken []*wbuf
		batch [][]byte
	)
	for {
		select {
		case <-c.wake:
		case <-c.ctx.Done():
			return
		}
		c.gather()
		// Take the whole stack; it holds the newest message first.
		taken = taken[:0]
		for w := c.head.Swap(nil); w != nil; w = w.next {
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
				batch = append(batch, w.b)
			} else {
				start := 0
				for _, end := range w.ends[:w.parts] {
					batch = append(batch, w.b[start:end])
					start = end
				}
			}
			size += len(w.b)
			if size < flushBytes && len(batch) < flushMessages && i > 0 {
				continue
			}
			err := c.t.WriteMessages(batch...)
			clear(batch)
			batch = batch[:0]
			released := int64(0)
			for j := i; j < from; j++ {
				released += int64(taken[j].counted)
				putBuf(taken[j])
				taken[j] = nil
			}
			from, size = i, 0
			c.charge(-released)
			c.written.Add(1)
			c.roomMade()
			if err != nil {
				for j := range i {
					c.charge(-int64(taken[j].counted))
					putBuf(taken[j])
					taken[j] = nil
				}
				c.close(NewError(CodeUnavailable, fmt.Errorf("write: %w", err)))
				return
			}
		}
		if cap(taken) > 4096 { // a burst: do not keep its slices
			taken, batch = nil, nil
		}
	}
}
