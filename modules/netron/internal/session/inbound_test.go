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
		if !tb.Chunk(item(5, i, byte(i), false)) {
			t.Fatal("a chunk was refused")
		}
	}
	pkt, _ := item(5, 4, 0, true)
	tb.Chunk(pkt, protocol.RawValue{0xc0})
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
		tb.Chunk(item(6, i, byte(i), false))
	}
	pkt, _ := item(6, 4, 0, true)
	tb.Chunk(pkt, protocol.RawValue{0xc0})
	got, err := readAll(t, tb.Claim(6))
	if string(got) != "\x00\x01" || err == nil || err.Error() != "stream 6: item 2 of 4 missing" {
		t.Fatalf("read % x, %v; want 00 01 then the missing-items error", got, err)
	}
	if tb.Len() != 0 {
		t.Fatalf("%d streams in the table after the end was read", tb.Len())
	}
}

// More than MaxEarly items ahead of their turn end the stream with the
// out-of-order error.
func TestInboundTooManyEarly(t *testing.T) {
	tb, _ := newInbounds(10, time.Minute)
	s := tb.Claim(1)
	for i := range uint32(MaxEarly + 1) {
		tb.Chunk(item(1, i+1, 0, false))
	}
	if _, err := readAll(t, s); err == nil || err.Error() != "stream 1: out of order" {
		t.Fatalf("after %d early items: %v", MaxEarly+1, err)
	}
}

// The table holds at most max streams: an item of one more is refused
// (the caller tells the producer), and claiming one more fails.
func TestInboundLimit(t *testing.T) {
	tb, _ := newInbounds(2, time.Minute)
	tb.Chunk(item(1, 0, 0, false))
	tb.Chunk(item(2, 0, 0, false))
	if tb.Chunk(item(3, 0, 0, false)) {
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
	if !tb.Chunk(item(7, 1, 0, false)) || tb.Len() != 0 {
		t.Fatalf("a late item of a cancelled stream was refused or started it again (%d streams)", tb.Len())
	}
	tb.Chunk(item(7, 2, 0, true)) // its end: forgotten
	if !tb.Chunk(item(7, 0, 0, false)) || tb.Len() != 1 {
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
	tb.Chunk(item(9, 0, 0, false))
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
// than it is fed, items out of order) count against the table's bytes;
// the stream whose item would pass them ends with TooMuch, its items are
// dropped, its producer is told to stop and its late items are dropped.
// What readers take, and what ends, is counted off.
func TestInboundBytesBounded(t *testing.T) {
	tbl, st := newInboundsBytes(10, 1000, time.Minute)
	// A made-up stream: nobody claims it.
	for i := range uint32(9) {
		tbl.Chunk(bigItem(1, i, 100))
	}
	if got := tbl.Held(); got != 900 {
		t.Fatalf("held %d bytes after 9 items of 100, want 900", got)
	}
	tbl.Chunk(bigItem(1, 9, 100)) // 1000: at the bound, kept
	tbl.Chunk(bigItem(1, 10, 1))  // past it: the stream ends
	if got := tbl.Held(); got != 0 {
		t.Fatalf("held %d bytes after the stream was ended, want 0", got)
	}
	if got := st.got(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("producers told to stop: %v, want [1]", got)
	}
	tbl.Chunk(bigItem(1, 11, 500)) // late: dropped
	if got := tbl.Held(); got != 0 {
		t.Fatalf("a late item of the ended stream is held: %d bytes", got)
	}
	s := tbl.Claim(1)
	if s == nil {
		t.Fatal("the ended stream is not found by its reader")
	}
	if out, err := readAll(t, s); len(out) != 0 || err == nil || err.Error() != "stream 1: over 1000 bytes" {
		t.Fatalf("reader of the ended stream got %d items and %v", len(out), err)
	}

	// A claimed stream: what its reader takes is counted off.
	s = tbl.Claim(2)
	for i := range uint32(8) {
		tbl.Chunk(bigItem(2, i, 100))
	}
	items, _, err := s.Take(context.Background(), time.Second, nil)
	if len(items) != 8 || err != nil || tbl.Held() != 0 {
		t.Fatalf("took %d items (%v); %d bytes still held", len(items), err, tbl.Held())
	}
	// Items out of order count too, and are counted off when in order.
	tbl.Chunk(bigItem(2, 9, 300))
	tbl.Chunk(bigItem(2, 10, 300))
	if got := tbl.Held(); got != 600 {
		t.Fatalf("held %d bytes of items out of order, want 600", got)
	}
	tbl.Chunk(bigItem(2, 8, 300))
	if items, _, _ = s.Take(context.Background(), time.Second, items); len(items) != 3 || tbl.Held() != 0 {
		t.Fatalf("took %d items; %d bytes still held", len(items), tbl.Held())
	}
	// Another stream that passes the bound ends; the first goes on.
	s3 := tbl.Claim(3)
	tbl.Chunk(bigItem(2, 11, 600))
	tbl.Chunk(bigItem(3, 0, 300))
	tbl.Chunk(bigItem(3, 1, 300)) // 1200: stream 3 ends, stream 2 keeps its item
	if _, err := readAll(t, s3); err == nil || err.Error() != "stream 3: over 1000 bytes" {
		t.Fatalf("stream 3 ended with %v", err)
	}
	if got := tbl.Held(); got != 600 {
		t.Fatalf("held %d bytes, want stream 2's 600", got)
	}
	if items, _, _ = s.Take(context.Background(), time.Second, items); len(items) != 1 || tbl.Held() != 0 {
		t.Fatalf("stream 2: took %d items; %d bytes still held", len(items), tbl.Held())
	}
	// A cancelled stream, and one that ends with an error, give back what
	// they held (early items: the reader never gets them).
	tbl.Chunk(bigItem(2, 12, 100))
	tbl.Chunk(bigItem(2, 14, 100))
	s.Cancel()
	s4 := tbl.Claim(4)
	tbl.Chunk(bigItem(4, 1, 200))
	tbl.End(4, errors.New("producer failed"))
	if got := tbl.Held(); got != 0 {
		t.Fatalf("held %d bytes after a cancel and a failed end, want 0", got)
	}
	if _, err := readAll(t, s4); err == nil || err.Error() != "producer failed" {
		t.Fatalf("stream 4 ended with %v", err)
	}
}
