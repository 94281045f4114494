package session

import (
	"sync"
	"sync/atomic"

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

// A Slab is a reader's slab of small frames. One frame kept keeps the
// whole slab, so a bound on what a peer can make this side keep (its
// streams' unread items) counts the slabs it pins, not only their frames:
// Pin and Unpin count the holders of frames of a slab (a stream's run of
// items from it holds one pin).
type Slab struct {
	b    []byte
	pins atomic.Int32
}

// SlabSize is the memory a slab holds.
const SlabSize = slabSize

// Pin counts one more holder of frames of s; it reports whether it is the
// first, which pins the slab.
func (s *Slab) Pin() (first bool) { return s.pins.Add(1) == 1 }

// Unpin counts one holder of s fewer; it reports whether it was the last,
// which unpins the slab.
func (s *Slab) Unpin() (last bool) { return s.pins.Add(-1) == 0 }

// slabbed returns n bytes of the reader's slab (the reader's goroutine
// only), and makes it the slab of the message being handled ([Reader.Slab]).
func (r *Reader) slabbed(n int) []byte {
	if r.slab == nil || cap(r.slab.b)-len(r.slab.b) < n {
		r.slab = &Slab{b: make([]byte, 0, slabSize)}
	}
	sl := r.slab
	end := len(sl.b) + n
	b := sl.b[len(sl.b):end:end]
	sl.b = sl.b[:end]
	r.cur = sl
	return b
}

// Slab returns the slab the frame of the packet being handled was carved
// from, nil when it has one of its own: for the Handler, during Packet.
func (r *Reader) Slab() *Slab { return r.cur }

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
