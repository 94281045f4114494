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
	st := &stops{}
	var t Inbounds
	t.Init(max, idle, testStreamErrors, st.stop)
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
