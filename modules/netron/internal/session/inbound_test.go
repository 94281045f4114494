package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

var testStreamErrors = StreamErrors{
	OutOfOrder: func(id uint32) error { return fmt.Errorf("stream %d: out of order", id) },
	Missing: func(id, next, end uint32) error {
		return fmt.Errorf("stream %d: item %d of %d missing", id, next, end)
	},
	Cancelled: errors.New("cancelled"),
	Idle:      func(id uint32, idle time.Duration) error { return fmt.Errorf("stream %d idle %v", id, idle) },
	Context:   func(ctx context.Context) error { return ctx.Err() },
	TooMuch:   func(id uint32, max int64) error { return fmt.Errorf("stream %d: over %d bytes", id, max) },
}

type stops struct {
	mu  sync.Mutex
	ids []uint32
}

func (s *stops) stop(id uint32) { s.mu.Lock(); s.ids = append(s.ids, id); s.mu.Unlock() }
func (s *stops) got() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.ids...)
}

func newInbounds(max int, idle time.Duration) (*Inbounds, *stops) {
	return newInboundsBytes(max, 1<<30, idle)
}

func newInboundsBytes(max int, maxBytes int64, idle time.Duration) (*Inbounds, *stops) {
	st := &stops{}
	var t Inbounds
	t.Init(max, maxBytes, idle, testStreamErrors, st.stop)
	return &t, st
}

func item(stream, index uint32, v byte, eos bool) (protocol.Packet, protocol.RawValue) {
	return protocol.Packet{Type: protocol.TypeStream, Impulse: true, StreamID: stream, StreamIndex: index, EOS: eos}, protocol.RawValue{v}
}

func readAll(t *testing.T, s *Inbound) ([]byte, error) {
	t.Helper()
	var out []byte
	for {
		items, _, err := s.Take(context.Background(), time.Second, nil)
		for _, it := range items {
			out = append(out, it[0])
		}
		if err != nil {
			return out, err
		}
	}
}

// Items arriving out of order are read in order; an end with a nil item
// adds nothing; the reader gets io.EOF after the last, and the stream
// leaves the table.
func TestInboundOrder(t *testing.T) {
	tb, _ := newInbounds(10, time.Minute)
	for _, i := range []uint32{2, 0, 3, 1} {
		if !tb.chunkNoSlab(item(5, i, byte(i), false)) {
			t.Fatal("a chunk was refused")
		}
	}
	pkt, _ := item(5, 4, 0, true)
	tb.Chunk(pkt, protocol.RawValue{0xc0}, nil)
	s := tb.Claim(5)
	got, err := readAll(t, s)
	if string(got) != "\x00\x01\x02\x03" || !errors.Is(err, io.EOF) {
		t.Fatalf("read % x, %v; want 00 01 02 03 then EOF", got, err)
	}
	if tb.Len() != 0 {
		t.Fatalf("%d streams in the table after the end was read", tb.Len())
	}
}

// An end that comes while lower items are missing ends the stream with
// the missing-items error, after the items that did come in order; an
// item waiting beyond the gap is not delivered.
func TestInboundEndWithMissingItems(t *testing.T) {
	tb, _ := newInbounds(10, time.Minute)
	for _, i := range []uint32{0, 1, 3} { // 2 never comes
		tb.chunkNoSlab(item(6, i, byte(i), false))
	}
	pkt, _ := item(6, 4, 0, true)
	tb.Chunk(pkt, protocol.RawValue{0xc0}, nil)
	got, err := readAll(t, tb.Claim(6))
	if string(got) != "\x00\x01" || err == nil || err.Error() != "stream 6: item 2 of 4 missing" {
		t.Fatalf("read % x, %v; want 00 01 then the missing-items error", got, err)
	}
	if tb.Len() != 0 {
		t.Fatalf("%d streams in the table after the end was read", tb.Len())
	}
}

// An end in its turn ends the stream there: items that came ahead of
// their turn past the end are not delivered, nor counted as held.
func TestInboundItemsPastTheEndDropped(t *testing.T) {
	for last, want := range map[byte]string{0xc0: "\x00", 0x01: "\x00\x01"} { // the end alone, or with the last item
		tb, _ := newInbounds(10, time.Minute)
		tb.chunkNoSlab(item(8, 0, 0, false))
		tb.chunkNoSlab(item(8, 2, 2, false)) // past the end to come
		pkt, _ := item(8, 1, 0, true)
		tb.Chunk(pkt, protocol.RawValue{last}, nil)
		got, err := readAll(t, tb.Claim(8))
		if string(got) != want || !errors.Is(err, io.EOF) {
			t.Fatalf("end %02x: read % x, %v; want % x then EOF", last, got, err, want)
		}
		if h := tb.Held(); h != 0 {
			t.Fatalf("end %02x: %d bytes held after the stream was read to its end", last, h)
		}
	}
}

// More than MaxEarly items ahead of their turn end the stream with the
// out-of-order error.
func TestInboundTooManyEarly(t *testing.T) {
	tb, _ := newInbounds(10, time.Minute)
	s := tb.Claim(1)
	for i := range uint32(MaxEarly + 1) {
		tb.chunkNoSlab(item(1, i+1, 0, false))
	}
	if _, err := readAll(t, s); err == nil || err.Error() != "stream 1: out of order" {
		t.Fatalf("after %d early items: %v", MaxEarly+1, err)
	}
}

// A claimed stream ended for too many items out of order leaves the
// table, as its other ends do, instead of holding one of its places until
// the connection ends; its producer is told to stop and its late items do
// not start it again.
func TestInboundOutOfOrderLeavesTable(t *testing.T) {
	tb, st := newInbounds(10, time.Minute)
	s := tb.Claim(1)
	tb.chunkNoSlab(item(1, 0, 7, false))
	for i := range uint32(MaxEarly + 1) {
		tb.chunkNoSlab(item(1, i+2, 0, false))
	}
	got, err := readAll(t, s)
	if string(got) != "\x07" || err == nil || err.Error() != "stream 1: out of order" {
		t.Fatalf("read % x, %v; want 07 then the out-of-order error", got, err)
	}
	if tb.Len() != 0 {
		t.Fatalf("%d streams in the table after the out-of-order end was read", tb.Len())
	}
	if ids := st.got(); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("producer told to stop %v; want [1]", ids)
	}
	if !tb.chunkNoSlab(item(1, 1, 0, false)) || tb.Len() != 0 {
		t.Fatalf("a late item of the ended stream was refused or started it again (%d streams)", tb.Len())
	}
	if h := tb.Held(); h != 0 {
		t.Fatalf("%d bytes held after the stream was read to its end", h)
	}
}

// The table holds at most max streams: an item of one more is refused
// (the caller tells the producer), and claiming one more fails.
func TestInboundLimit(t *testing.T) {
	tb, _ := newInbounds(2, time.Minute)
	tb.chunkNoSlab(item(1, 0, 0, false))
	tb.chunkNoSlab(item(2, 0, 0, false))
	if tb.chunkNoSlab(item(3, 0, 0, false)) {
		t.Fatal("a third stream was accepted with a limit of 2")
	}
	if tb.Claim(4) != nil {
		t.Fatal("a third stream was claimed with a limit of 2")
	}
}

// A stream cancelled by its reader tells the producer to stop, once; its
// late items are dropped instead of starting it again, until its end; the
// reader gets the cancel error.
func TestInboundCancel(t *testing.T) {
	tb, st := newInbounds(10, time.Minute)
	s := tb.Claim(7)
	if !s.Cancel() || s.Cancel() {
		t.Fatal("Cancel did not report the stream live once")
	}
	if ids := st.got(); len(ids) != 1 || ids[0] != 7 {
		t.Fatalf("producer told to stop %v; want [7]", ids)
	}
	if !tb.chunkNoSlab(item(7, 1, 0, false)) || tb.Len() != 0 {
		t.Fatalf("a late item of a cancelled stream was refused or started it again (%d streams)", tb.Len())
	}
	tb.chunkNoSlab(item(7, 2, 0, true)) // its end: forgotten
	if !tb.chunkNoSlab(item(7, 0, 0, false)) || tb.Len() != 1 {
		t.Fatal("after its end, the id is not free for a new stream")
	}
	if _, _, err := s.Take(context.Background(), time.Second, nil); err == nil || err.Error() != "cancelled" {
		t.Fatalf("a cancelled stream's reader got %v", err)
	}
}

// A stream nobody claims is cancelled after the idle timeout, its producer
// told to stop.
func TestInboundUnclaimedIsReaped(t *testing.T) {
	tb, st := newInbounds(10, 50*time.Millisecond)
	tb.chunkNoSlab(item(9, 0, 0, false))
	deadline := time.Now().Add(2 * time.Second)
	for tb.Len() != 0 || len(st.got()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("an unclaimed stream is still held (%d streams, stops %v)", tb.Len(), st.got())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The producer's end and the connection's reach the reader; a reader that
// waits gets the idle error or its context's.
func TestInboundEnds(t *testing.T) {
	tb, _ := newInbounds(10, time.Minute)
	a, b := tb.Claim(1), tb.Claim(2)
	boom := errors.New("boom")
	tb.End(1, boom)
	if _, err := readAll(t, a); !errors.Is(err, boom) {
		t.Fatalf("End's error: %v", err)
	}
	if _, _, err := b.Take(context.Background(), 20*time.Millisecond, nil); err == nil || err.Error() != "stream 2 idle 20ms" {
		t.Fatalf("an idle reader got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := b.Take(ctx, time.Minute, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled reader got %v", err)
	}
	lost := errors.New("connection lost")
	tb.FailAll(lost)
	if _, err := readAll(t, b); !errors.Is(err, lost) || tb.Len() != 0 {
		t.Fatalf("FailAll: %v, %d streams left", err, tb.Len())
	}
}

// bigItem is item with a payload of n bytes.
func bigItem(stream, index uint32, n int) (protocol.Packet, protocol.RawValue) {
	pkt, _ := item(stream, index, 0, false)
	return pkt, make(protocol.RawValue, n)
}

// TestInboundBytesBounded: the items a producer sends and no reader takes
// (an unclaimed stream of an id it made up, a claimed stream read slower
// than it is fed, items out of order) count against the table's bytes,
// each with itemOverhead; the stream whose item would pass them ends with
// TooMuch, its items are dropped, its producer is told to stop and its
// late items are dropped. What readers take, and what ends, is counted
// off.
func TestInboundBytesBounded(t *testing.T) {
	const c = 100 + itemOverhead // what an item of 100 bytes counts
	tbl, st := newInboundsBytes(10, 10*c, time.Minute)
	held := func(want int64, when string) {
		t.Helper()
		if got := tbl.Held(); got != want {
			t.Fatalf("%s: held %d, want %d", when, got, want)
		}
	}
	// A made-up stream: nobody claims it.
	for i := range uint32(10) {
		tbl.chunkNoSlab(bigItem(1, i, 100))
	}
	held(10*c, "10 items of 100 (at the bound)")
	tbl.chunkNoSlab(bigItem(1, 10, 1)) // past it: the stream ends
	held(0, "the stream ended")
	if got := st.got(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("producers told to stop: %v, want [1]", got)
	}
	tbl.chunkNoSlab(bigItem(1, 11, 500)) // late: dropped
	held(0, "a late item of the ended stream")
	s := tbl.Claim(1)
	if s == nil {
		t.Fatal("the ended stream is not found by its reader")
	}
	if out, err := readAll(t, s); len(out) != 0 || err == nil || err.Error() != fmt.Sprintf("stream 1: over %d bytes", 10*c) {
		t.Fatalf("reader of the ended stream got %d items and %v", len(out), err)
	}

	// A claimed stream: what its reader takes is counted off.
	s = tbl.Claim(2)
	for i := range uint32(8) {
		tbl.chunkNoSlab(bigItem(2, i, 100))
	}
	items, _, err := s.Take(context.Background(), time.Second, nil)
	if len(items) != 8 || err != nil {
		t.Fatalf("took %d items (%v)", len(items), err)
	}
	held(0, "the reader took every item")
	// Items out of order count too (an index sent again once), and are
	// counted off when in order.
	tbl.chunkNoSlab(bigItem(2, 9, 100))
	tbl.chunkNoSlab(bigItem(2, 9, 100))
	tbl.chunkNoSlab(bigItem(2, 10, 100))
	held(2*c, "two items out of order, one sent twice")
	tbl.chunkNoSlab(bigItem(2, 8, 100))
	if items, _, _ = s.Take(context.Background(), time.Second, items); len(items) != 3 {
		t.Fatalf("took %d items, want 3", len(items))
	}
	held(0, "the items out of order were taken")
	// Another stream that passes the bound ends; the first goes on.
	s3 := tbl.Claim(3)
	for i := range uint32(6) {
		tbl.chunkNoSlab(bigItem(2, 11+i, 100))
	}
	for i := range uint32(5) {
		tbl.chunkNoSlab(bigItem(3, i, 100)) // the fifth passes the bound: stream 3 ends
	}
	if _, err := readAll(t, s3); err == nil || err.Error() != fmt.Sprintf("stream 3: over %d bytes", 10*c) {
		t.Fatalf("stream 3 ended with %v", err)
	}
	held(6*c, "stream 2's items")
	if items, _, _ = s.Take(context.Background(), time.Second, items); len(items) != 6 {
		t.Fatalf("stream 2: took %d items, want 6", len(items))
	}
	held(0, "stream 2's items taken")
	// A cancelled stream, one that ends with an error and one that ends
	// cleanly give back what they held: items waiting past a gap, or past
	// the end, are never read.
	tbl.chunkNoSlab(bigItem(2, 17, 100))
	tbl.chunkNoSlab(bigItem(2, 19, 100))
	s.Cancel()
	s4 := tbl.Claim(4)
	tbl.chunkNoSlab(bigItem(4, 1, 100))
	tbl.End(4, errors.New("producer failed"))
	s5 := tbl.Claim(5)
	tbl.chunkNoSlab(bigItem(5, 0, 100))
	tbl.chunkNoSlab(bigItem(5, 5, 100))
	eos, _ := item(5, 1, 0xc0, true)
	tbl.Chunk(eos, protocol.RawValue{0xc0}, nil)
	held(c, "stream 5's one item in order")
	if out, err := readAll(t, s5); len(out) != 1 || err != io.EOF {
		t.Fatalf("stream 5: %d items, %v", len(out), err)
	}
	held(0, "after a cancel, a failed end and a clean end")
	if _, err := readAll(t, s4); err == nil || err.Error() != "producer failed" {
		t.Fatalf("stream 4 ended with %v", err)
	}
}

// TestInboundClaimedAfterFailAll: a reader that claims its stream after
// the connection ended (it had the stream's reference just before) gets
// the connection's error at once, not after the idle timeout.
func TestInboundClaimedAfterFailAll(t *testing.T) {
	tbl, _ := newInbounds(10, time.Minute)
	tbl.chunkNoSlab(item(1, 0, 'a', false))
	lost := errors.New("connection lost")
	tbl.FailAll(lost)
	s := tbl.Claim(2)
	if s == nil {
		t.Fatal("no stream claimed after the connection ended")
	}
	start := time.Now()
	_, _, err := s.Take(context.Background(), time.Minute, nil)
	if err != lost || time.Since(start) > time.Second {
		t.Fatalf("Take after FailAll: %v after %v, want the connection's error at once", err, time.Since(start))
	}
	if tbl.Len() != 0 {
		t.Fatalf("the table holds %d streams after the connection ended", tbl.Len())
	}
}

// chunkNoSlab files an item in a frame of its own.
func (t *Inbounds) chunkNoSlab(pkt protocol.Packet, payload protocol.RawValue) bool {
	return t.Chunk(pkt, payload, nil)
}

// TestInboundSlabsCounted: an item carved from a slab keeps the whole
// slab, so the first item held of a slab counts the slab too (once, for
// all the items held of it), and the slab stops counting when its last
// item held is taken, dropped or replaced. Tiny items each from a slab of
// their own pin slabs up to the bound, and are then kept in copies of
// their own: what is held stays under the bound.
func TestInboundSlabsCounted(t *testing.T) {
	const c = 1 + itemOverhead // what a one-byte item counts
	tbl, st := newInboundsBytes(10, 3*SlabSize+100*c, time.Minute)
	held := func(want int64, when string) {
		t.Helper()
		if got := tbl.Held(); got != want {
			t.Fatalf("%s: held %d, want %d", when, got, want)
		}
	}
	shared := &Slab{}
	for i := range uint32(5) {
		p, v := item(1, i, 1, false)
		tbl.Chunk(p, v, shared)
	}
	held(SlabSize+5*c, "five items of one slab")
	s := tbl.Claim(1)
	if items, _, err := s.Take(context.Background(), time.Second, nil); err != nil || len(items) != 5 {
		t.Fatalf("Take: %d items, %v", len(items), err)
	}
	held(0, "the five taken")
	// An item out of order, replaced by another of the same index.
	p, v := item(1, 7, 1, false)
	tbl.Chunk(p, v, shared)
	held(SlabSize+c, "an early item")
	other := &Slab{}
	tbl.Chunk(p, v, other)
	held(SlabSize+c, "the early item replaced by one of another slab")
	if shared.pins.Load() != 0 || other.pins.Load() != 1 {
		t.Fatalf("pins: %d and %d, want 0 and 1", shared.pins.Load(), other.pins.Load())
	}
	s.Cancel()
	held(0, "the stream cancelled")
	if other.pins.Load() != 0 {
		t.Fatalf("a cancelled stream's early item still pins its slab")
	}
	// A made-up stream of one-byte items, each from a slab of its own:
	// three slabs are held, the fourth would pass the bound, so its item
	// (and every later one) is kept in a copy, counted alone, until the
	// items pass the bound too.
	for i := range uint32(4) {
		p, v := item(2, i, 1, false)
		tbl.Chunk(p, v, &Slab{})
	}
	held(3*SlabSize+4*c, "three slabs held, the fourth item copied")
	for i := uint32(4); i <= 100; i++ {
		p, v := item(2, i, 1, false)
		tbl.Chunk(p, v, &Slab{})
	}
	held(0, "the stream ended past the bound")
	if got := st.got(); len(got) != 2 || got[1] != 2 {
		t.Fatalf("producers told to stop: %v, want [1 2] (1 cancelled, 2 over the bound)", got)
	}
}
