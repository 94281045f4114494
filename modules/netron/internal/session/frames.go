package session

import (
	"sync"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Small stream items and events are carved out of a shared slab rather
// than allocated one by one: a slab is freed once nothing holds any of its
// frames.
const (
	slabSize   = 32 << 10
	maxSlabbed = 1 << 10
)

// A stream item's decoder slices binary values of protocol.OwnedBinMin
// bytes and more from its frame (netron's All, protocol.UnmarshalOwned),
// which must then be the item's own, not a slab's piece that other frames
// share: no slabbed frame can hold such a value. (This fails to compile
// if maxSlabbed grows past OwnedBinMin.)
const _ = uint(protocol.OwnedBinMin - maxSlabbed)

// slabbed returns n bytes of the reader's slab (the reader's goroutine
// only).
func (r *Reader) slabbed(n int) []byte {
	if cap(r.slab)-len(r.slab) < n {
		r.slab = make([]byte, 0, slabSize)
	}
	end := len(r.slab) + n
	b := r.slab[len(r.slab):end:end]
	r.slab = r.slab[:end]
	return b
}

// pooledFrame reports whether a message is a request or an answer
// (GET, SET, CALL, TASK, PING), whose frame buffer comes from framePool.
func pooledFrame(msg []byte) bool {
	if len(msg) < 5 {
		return false
	}
	t := protocol.Type(msg[4] & 0x0f)
	return t <= protocol.TypeTask
}

// framePool recycles the buffers of received frames up to 64 KiB, with
// their holders; a holder may come back empty (KeepFrame), and getFrame
// gives it a buffer of the size asked.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

// getFrame returns a buffer of n bytes and its pool holder (nil when the
// buffer is too large to be pooled).
func getFrame(n int) ([]byte, *[]byte) {
	if n > 64<<10 {
		return make([]byte, n), nil
	}
	h := framePool.Get().(*[]byte)
	if cap(*h) < n {
		*h = make([]byte, n, max(n, 1024))
	}
	return (*h)[:n], h
}

// PutFrame gives a frame back under its holder (nil: nothing to give
// back); nothing may alias it after.
func PutFrame(h *[]byte) {
	if h == nil {
		return
	}
	*h = (*h)[:0]
	framePool.Put(h)
}

// KeepFrame gives back a frame's holder without the frame, which a
// decoded value still uses (a binary value sliced from it): the next
// frame taken from the pool under this holder is a new buffer.
func KeepFrame(h *[]byte) {
	if h == nil {
		return
	}
	*h = nil
	framePool.Put(h)
}
