package session

import (
	"sync"
	"sync/atomic"
)

// Buf is one encoded message on its way out: a write buffer, pooled, and a
// node of a [Queue]. B is what is written; a Buf given to a Queue belongs
// to it.
type Buf struct {
	B      []byte
	next   *Buf
	pooled bool

	// A buffer a stream's producer keeps appending its items to while it
	// waits in the queue (see Queue.AppendItem) holds several messages:
	// parts of them, each ending at ends[i]; parts is 0 for a single
	// message. state is gen<<2 | st (st: 0 open, 1 being appended to, 2
	// taken by the writer); gen changes each time the buffer is reused, so
	// a producer holding a buffer that has been written and reused since
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
	maxPooledSize = 64 << 10
	stOpen        = 0
	stAppending   = 1
	stTaken       = 2
)

// bufPool recycles the write buffers of encoded packets with their nodes,
// so sending allocates nothing.
var bufPool = sync.Pool{New: func() any { return &Buf{B: make([]byte, 0, 512), pooled: true} }}

// GetBuf returns an empty buffer from the pool. Give it to a Queue, which
// returns it to the pool once written, or back with PutBuf.
func GetBuf() *Buf {
	w := bufPool.Get().(*Buf)
	w.reuse()
	return w
}

// reuse readies a buffer from the pool: empty, and open in the generation
// PutBuf began.
func (w *Buf) reuse() {
	w.B = w.B[:0]
	w.state.Store(w.state.Load() &^ 3)
}

// PutBuf gives a buffer that was not queued (or that the queue is done
// with) back to the pool. Buffers not from the pool, and large ones, are
// left to the garbage collector.
func PutBuf(w *Buf) {
	if !w.pooled || cap(w.B) > maxPooledSize {
		return
	}
	w.next = nil
	w.counted, w.uncounted = 0, 0
	if w.shared {
		w.retire()
	}
	bufPool.Put(w)
}

// retire ends a shared buffer's generation: taken until reused, so that a
// producer still holding it cannot append to it.
func (w *Buf) retire() {
	w.state.Store((w.state.Load()>>2+1)<<2 | stTaken)
	w.shared, w.parts = false, 0
}

// lockOpen locks w for an append when it is still open in generation gen
// (not taken by the writer, not reused since); it reports false, with w
// unlocked, otherwise.
func lockOpen(w *Buf, gen uint64) bool {
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
func takeShared(w *Buf) {
	w.mu.Lock()
	w.state.Store(w.state.Load()&^3 | stTaken)
	w.mu.Unlock()
}
