package session

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Inbound is a stream the peer produces: its items, put back in order,
// buffered for one reader. Safe for concurrent use.
type Inbound struct {
	t     *Inbounds
	id    uint32
	mu    sync.Mutex
	wake  chan struct{}
	items []protocol.RawValue
	runs  []*Slab              // a pin of each slab items were carved from (one per run of items)
	next  uint32               // index expected next
	early map[uint32]earlyItem // arrived out of order
	// held and heldEarly are the bytes of items and of early, counted in
	// the table's held until the reader takes them or they are dropped
	// (the slabs they pin are counted apart, by pin and unpin).
	held, heldEarly int64
	done            bool
	err             error
	// claimed is set once a reader took the stream; until then a finished
	// stream stays in the table so its reader can find it, for at most
	// the idle timeout (reaper).
	claimed bool
	reaper  *time.Timer // nil for a stream claimed after FailAll
}

// earlyItem is an item that arrived ahead of its turn, with its slab (it
// holds a pin of it), or nil.
type earlyItem struct {
	v    protocol.RawValue
	slab *Slab
}

// MaxEarly bounds the items of one stream that arrive ahead of their turn.
const MaxEarly = 10000

// itemsCap is the initial room of a stream's item buffers (the reader's
// and the one it swaps with): grown from nothing, they cost ~100 bytes per
// item of a 100-item stream.
const itemsCap = 64

// maxCancelled bounds the cancelled streams a table remembers.
const maxCancelled = 1024

// StreamErrors are the errors the streams of a table end with, in the
// words (and codes) of the layer above.
type StreamErrors struct {
	// OutOfOrder ends a stream with more than MaxEarly items ahead of
	// their turn.
	OutOfOrder func(id uint32) error
	// Missing ends a stream whose end came (at index end, the number of
	// items sent) while the items from index next on had not.
	Missing func(id, next, end uint32) error
	// Cancelled ends a stream this side cancelled before its end.
	Cancelled error
	// Idle is what Take returns when no item came for the idle timeout.
	Idle func(id uint32, idle time.Duration) error
	// Context is what Take returns when its context ends.
	Context func(ctx context.Context) error
	// TooMuch ends a stream whose item would take the bytes of items
	// received and not yet taken, over the table's streams, past max.
	TooMuch func(id uint32, max int64) error
}

// Inbounds is a connection's table of the streams the peer produces: at
// most a bound of them at once, a stream nobody claims dropped after the
// idle timeout, and the streams this side cancelled remembered (at most
// 1,024) so that their late items are dropped instead of starting them
// again. Call Init before use. Safe for concurrent use, except Chunk,
// which the connection's reader calls.
type Inbounds struct {
	mu         sync.Mutex
	byID       map[uint32]*Inbound
	cancelled  map[uint32]error // why each was cancelled (ClaimOrWhy)
	cancelledQ []uint32         // oldest first
	last       *Inbound         // the stream of the last item (the reader's)
	max        int
	maxBytes   int64
	held       atomic.Int64 // bytes of the streams' items not yet taken, and of the slabs they pin
	failed     error        // set by FailAll: the connection has ended
	idle       time.Duration
	errs       StreamErrors
	stop       func(id uint32)
}

// Init readies the table for at most max streams at once, each dropped
// when unclaimed for idle, holding at most maxBytes of items their readers
// have not taken, over all of them, each item counted with a fixed
// overhead and each slab that items held were carved from counted whole
// once (a producer that ignores its window, or has none, cannot make this
// side hold more: one tiny item kept from each slab keeps every slab). stop, when not nil, is called with the id of a
// stream cancelled before its end (by its reader, unclaimed, over
// maxBytes or out of order), to tell the producer to stop.
func (t *Inbounds) Init(max int, maxBytes int64, idle time.Duration, errs StreamErrors, stop func(id uint32)) {
	t.byID, t.max, t.maxBytes, t.idle, t.errs, t.stop = map[uint32]*Inbound{}, max, maxBytes, idle, errs, stop
}

// Held returns the bytes of items received and not yet taken by their
// readers, over the table's streams.
func (t *Inbounds) Held() int64 { return t.held.Load() }

// Len returns how many streams the table holds.
func (t *Inbounds) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// ID returns the stream's id.
func (s *Inbound) ID() uint32 { return s.id }

func (s *Inbound) notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (t *Inbounds) forget(id uint32) {
	t.mu.Lock()
	delete(t.byID, id)
	t.mu.Unlock()
}

// Why ClaimOrWhy refuses a stream.
var (
	// ErrFull: the table held as many streams as it may, now or when the
	// stream's first item came (it was refused then, and its producer told
	// to stop).
	ErrFull = errors.New("stream table full")
	// ErrUnclaimed: the stream's items came and nobody claimed it within
	// the idle timeout; it was dropped.
	ErrUnclaimed = errors.New("stream dropped unclaimed")
	// ErrCancelled: this side cancelled the stream.
	ErrCancelled = errors.New("stream cancelled")
)

// Claim hands the stream with id to its reader, creating it if no item
// has arrived yet; nil when the table is full or this side cancelled it.
func (t *Inbounds) Claim(id uint32) *Inbound {
	s, _ := t.ClaimOrWhy(id)
	return s
}

// ClaimOrWhy is Claim, with why it refused the stream: ErrFull,
// ErrUnclaimed or ErrCancelled.
func (t *Inbounds) ClaimOrWhy(id uint32) (*Inbound, error) {
	s, why := t.lookup(id, true)
	if s == nil {
		return nil, why
	}
	s.mu.Lock()
	s.claimed = true
	if s.done {
		t.forget(id)
	}
	s.mu.Unlock()
	if s.reaper != nil {
		s.reaper.Stop()
	}
	return s, nil
}

// lookup returns the stream with id, creating it when create is set (an
// item can arrive before its reader claims it); with nil, why it may not
// (ClaimOrWhy).
func (t *Inbounds) lookup(id uint32, create bool) (*Inbound, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byID[id]
	if s == nil && create {
		if why, dead := t.cancelled[id]; dead {
			return nil, why
		}
		if len(t.byID) >= t.max {
			return nil, ErrFull
		}
		s = &Inbound{t: t, id: id, wake: make(chan struct{}, 1), items: make([]protocol.RawValue, 0, itemsCap)}
		if t.failed != nil {
			// Claimed after the connection ended (a reader that got its
			// reference just before): it ends at once, with the
			// connection's error, instead of after the idle timeout.
			s.done, s.err = true, t.failed
			return s, nil // not in the table, no reaper
		}
		t.byID[id] = s
		// A stream nobody claims (its caller gave up, or it was never a
		// Go caller's) is dropped after the idle timeout.
		s.reaper = time.AfterFunc(t.idle, func() {
			s.mu.Lock()
			claimed := s.claimed
			s.mu.Unlock()
			if !claimed {
				s.cancel(ErrUnclaimed)
			}
		})
	}
	return s, nil
}

// markCancelled remembers that this side cancelled stream id, and why;
// t.mu is held.
func (t *Inbounds) markCancelled(id uint32, why error) {
	if t.cancelled == nil {
		t.cancelled = map[uint32]error{}
	}
	if len(t.cancelledQ) >= maxCancelled {
		delete(t.cancelled, t.cancelledQ[0])
		t.cancelledQ = t.cancelledQ[1:]
	}
	t.cancelled[id] = why
	t.cancelledQ = append(t.cancelledQ, id)
}

// wasCancelled reports whether this side cancelled stream id; last
// forgets it (the producer has ended the stream).
func (t *Inbounds) wasCancelled(id uint32, last bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, dead := t.cancelled[id]
	if dead && last {
		delete(t.cancelled, id)
		t.cancelledQ = slices.DeleteFunc(t.cancelledQ, func(x uint32) bool { return x == id })
	}
	return dead
}

// Chunk files an item of a stream (the packet pkt, its payload, carved
// from slab or, when slab is nil, in a frame of its own) under its stream,
// in order. It reports false when the item belongs to no stream and may
// not start one: the table is full (the caller tells the producer to
// stop). That happens once per stream: the stream is then remembered as
// cancelled, and its later items are dropped, as are those of the other
// streams this side cancelled, and of streams that ended. Only the
// connection's reader calls it.
func (t *Inbounds) Chunk(pkt protocol.Packet, payload protocol.RawValue, slab *Slab) bool {
	if pkt.StreamID == 0 {
		return true
	}
	// Items of one stream tend to arrive together: the reader keeps the
	// last stream it found, and skips the table for the next item of it.
	// (A stream that ended meanwhile drops the item: it is done.)
	s := t.last
	if s == nil || s.id != pkt.StreamID {
		s, _ = t.lookup(pkt.StreamID, true)
		t.last = s
	}
	if s == nil {
		if t.wasCancelled(pkt.StreamID, pkt.EOS) {
			return true
		}
		// The table is full: the stream is refused once, then remembered
		// as cancelled, so that its later items are dropped (and its
		// reader's claim refused) instead of each being refused again.
		if !pkt.EOS {
			t.mu.Lock()
			t.markCancelled(pkt.StreamID, ErrFull)
			t.mu.Unlock()
		}
		return false
	}
	if s.chunk(pkt, payload, slab) && t.stop != nil {
		t.stop(s.id)
	}
	return true
}

// chunk files an item under s; over the table's bytes, or with more than
// MaxEarly items ahead of their turn, it ends s instead and reports true:
// the producer is to be told to stop.
func (s *Inbound) chunk(pkt protocol.Packet, payload protocol.RawValue, slab *Slab) (tooMuch bool) {
	t := s.t
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return false
	}
	isNil := len(payload) == 1 && payload[0] == 0xc0
	n := itemCost(payload)
	inOrder := pkt.StreamIndex == s.next && !(pkt.EOS && isNil)
	kept := inOrder || pkt.StreamIndex > s.next && !pkt.EOS
	// The slab the item pins: none when it has its own frame or joins a
	// run of items of its slab, which holds a pin already.
	pin := slab
	if !kept || inOrder && len(s.runs) > 0 && s.runs[len(s.runs)-1] == slab {
		pin = nil
	}
	if pin != nil && pin.Pin() && t.held.Add(SlabSize)+n > t.maxBytes {
		// Nothing held kept the slab, and it would pass the bound: the
		// item is kept in a copy of its own instead. (No item of the slab
		// is held, so nothing else unpins it meanwhile.)
		pin.pins.Add(-1)
		t.held.Add(-SlabSize)
		payload, pin = slices.Clone(payload), nil
	}
	if kept && t.held.Add(n) > t.maxBytes {
		t.held.Add(-n)
		t.unpin(pin)
		s.dropHeld()
		s.done, s.err = true, t.errs.TooMuch(s.id, t.maxBytes)
		t.mu.Lock()
		if s.claimed {
			delete(t.byID, s.id) // else kept, ended, for its reader to find
		}
		t.markCancelled(s.id, ErrCancelled) // its late items are dropped
		t.mu.Unlock()
		s.notify()
		return true
	}
	switch {
	case pkt.StreamIndex == s.next:
		if !(pkt.EOS && isNil) {
			s.items = append(s.items, payload)
			if pin != nil {
				s.runs = append(s.runs, pin)
			}
			s.held += n
		}
		s.next++
		for !pkt.EOS { // past the end, nothing is read
			e, ok := s.early[s.next]
			if !ok {
				break
			}
			delete(s.early, s.next)
			s.items = append(s.items, e.v)
			if e.slab != nil {
				if len(s.runs) > 0 && s.runs[len(s.runs)-1] == e.slab {
					t.unpin(e.slab) // the run's pin stays
				} else {
					s.runs = append(s.runs, e.slab)
				}
			}
			s.heldEarly -= itemCost(e.v)
			s.held += itemCost(e.v)
			s.next++
		}
	case pkt.StreamIndex > s.next && !pkt.EOS:
		if s.early == nil {
			s.early = map[uint32]earlyItem{}
		}
		if len(s.early) >= MaxEarly {
			t.held.Add(-n)
			t.unpin(pin)
			s.dropEarly()
			s.done, s.err = true, t.errs.OutOfOrder(s.id)
			t.mu.Lock()
			if s.claimed {
				delete(t.byID, s.id) // else kept, ended, for its reader to find
			}
			t.markCancelled(s.id, ErrCancelled) // its late items are dropped
			t.mu.Unlock()
			s.notify()
			return true
		}
		if old, ok := s.early[pkt.StreamIndex]; ok { // the index again: the last one stays
			s.heldEarly -= itemCost(old.v)
			t.held.Add(-itemCost(old.v))
			t.unpin(old.slab)
		}
		s.early[pkt.StreamIndex] = earlyItem{payload, pin}
		s.heldEarly += n
	}
	if pkt.EOS {
		s.done = true
		if pkt.StreamIndex > s.next {
			// Items were lost on the way (a sender keeps them in order on
			// a connection): the end is an error, not a clean one.
			s.err = t.errs.Missing(s.id, s.next, pkt.StreamIndex)
		}
		s.dropEarly() // what waits past the end is never read
		if s.claimed {
			t.forget(s.id)
		}
	}
	s.notify()
	return false
}

// itemOverhead is what an item held costs beyond its bytes (its slice
// header, the room its list grows by, its frame's own bytes), counted
// with each so that a stream of tiny items is held to the bound too.
const itemOverhead = 64

// itemCost is what holding v counts against the table's bytes.
func itemCost(v protocol.RawValue) int64 { return int64(len(v)) + itemOverhead }

// ItemCost is what a reader counts of an item v it has read, in the bytes
// of its window (the same count as the table's bound).
func ItemCost(v protocol.RawValue) int64 { return itemCost(v) }

// SentCost is what a producer counts of an item it sent in a packet of
// size bytes: the item's count on the reading side plus the packet's
// header, so never less than the reader counts. A reader that grants once
// it has read half its byte window therefore always grants before a
// producer held by that window waits (the header, a few bytes, is well
// under itemOverhead).
func SentCost(size int) int64 { return int64(size) + itemOverhead }

// unpin takes slab out of held when an item of it that was kept was the
// last; nil does nothing.
func (t *Inbounds) unpin(slab *Slab) {
	if slab != nil && slab.Unpin() {
		t.held.Add(-SlabSize)
	}
}

// unpinAll gives back the pins of items no longer held and clears the list.
func (t *Inbounds) unpinAll(slabs []*Slab) []*Slab {
	for i, sl := range slabs {
		t.unpin(sl)
		slabs[i] = nil
	}
	return slabs[:0]
}

// dropEarly drops the items that came ahead of their turn; s.mu is held.
func (s *Inbound) dropEarly() {
	for _, e := range s.early {
		s.t.unpin(e.slab)
	}
	s.t.held.Add(-s.heldEarly)
	s.early, s.heldEarly = nil, 0
}

// dropHeld drops every item not yet taken (the stream is ending); s.mu is
// held.
func (s *Inbound) dropHeld() {
	s.dropEarly()
	s.t.held.Add(-s.held)
	s.runs = s.t.unpinAll(s.runs)
	s.items, s.held = nil, 0
}

// End ends the stream id as its producer says (STREAM_CLOSE or
// STREAM_ERROR): with err, io.EOF for a clean end. A stream this side
// cancelled is forgotten.
func (t *Inbounds) End(id uint32, err error) {
	// A producer may end a stream before its reader claims it (a method
	// that fails before its first item): the stream is filed ended, as an
	// early item would be, so that the claim finds the error.
	s, _ := t.lookup(id, true)
	if s == nil {
		t.wasCancelled(id, true)
		return
	}
	s.mu.Lock()
	if s.claimed {
		t.forget(id)
	}
	s.mu.Unlock()
	s.Fail(err)
}

// FailAll ends every stream with err (the connection ended), and any
// stream claimed after it.
func (t *Inbounds) FailAll(err error) {
	t.mu.Lock()
	all := t.byID
	t.byID, t.failed = map[uint32]*Inbound{}, err
	t.mu.Unlock()
	for _, s := range all {
		s.reaper.Stop()
		s.Fail(err)
	}
}

// Fail ends the stream with err unless it has ended.
func (s *Inbound) Fail(err error) {
	s.mu.Lock()
	if !s.done {
		s.done, s.err = true, err
	}
	s.dropEarly() // the items in order stay for the reader
	s.mu.Unlock()
	s.notify()
}

// Take moves every item that has arrived to the reader's dst (reused,
// empty), waiting until one arrives, the stream ends, ctx ends or the
// stream has been idle too long. Taking them all at once costs the reader
// one lock per batch instead of one per item. done reports whether the
// producer has finished (no more grants are needed). After the last item
// the error is the stream's end: io.EOF for a clean one.
func (s *Inbound) Take(ctx context.Context, idle time.Duration, dst []protocol.RawValue) (items []protocol.RawValue, done bool, err error) {
	// The idle clock starts when the reader finds nothing to read (not at
	// each arrival, which would cost a clock read per item).
	var expired <-chan time.Time
	for {
		s.mu.Lock()
		if len(s.items) > 0 {
			items, s.items = s.items, dst[:0]
			s.t.held.Add(-s.held)
			s.runs = s.t.unpinAll(s.runs) // taken: its reader holds them now
			s.held = 0
			done = s.done
			s.mu.Unlock()
			return items, done, nil
		}
		if s.done {
			err := s.err
			s.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return dst[:0], true, err
		}
		s.mu.Unlock()
		if expired == nil {
			timer := time.NewTimer(idle)
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return dst[:0], false, s.t.errs.Context(ctx)
		case <-expired:
			return dst[:0], false, s.t.errs.Idle(s.id, idle)
		}
	}
}

// Cancel stops reading the stream and forgets it; its late items are
// dropped, and the producer of a stream still live is told to stop (the
// table's stop). It reports whether the stream was still live.
func (s *Inbound) Cancel() (live bool) { return s.cancel(ErrCancelled) }

// cancel is Cancel, remembering why (ClaimOrWhy).
func (s *Inbound) cancel(why error) (live bool) {
	s.mu.Lock()
	live = !s.done
	s.done = true
	if s.err == nil {
		s.err = s.t.errs.Cancelled
	}
	s.dropHeld()
	s.mu.Unlock()
	t := s.t
	t.mu.Lock()
	delete(t.byID, s.id)
	if live {
		t.markCancelled(s.id, why)
	}
	t.mu.Unlock()
	if live && t.stop != nil {
		t.stop(s.id)
	}
	s.notify()
	return live
}
