package session

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// stallConn is a transport.Conn whose writes wait for gate and are
// recorded in order; entered is closed when the first write begins.
type stallConn struct {
	gate    chan struct{}
	entered chan struct{}
	enter   sync.Once
	mu      sync.Mutex
	writes  [][]byte
	closed  chan struct{}
	once    sync.Once
}

func (s *stallConn) ReadMessage() ([]byte, error) { <-s.closed; return nil, net.ErrClosed }
func (s *stallConn) WriteMessages(msgs ...[]byte) error {
	s.enter.Do(func() { close(s.entered) })
	select {
	case <-s.gate:
	case <-s.closed:
		return net.ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		s.writes = append(s.writes, bytes.Clone(m))
	}
	return nil
}
func (s *stallConn) Close() error       { s.once.Do(func() { close(s.closed) }); return nil }
func (s *stallConn) LocalAddr() string  { return "stall:" }
func (s *stallConn) RemoteAddr() string { return "stall:" }

// newTestQueue returns a queue on a stalling connection with its writer
// running; the cleanup closes it and waits for the writer.
func newTestQueue(t *testing.T, lim Limits, budget *Budget) (*Queue, *stallConn) {
	t.Helper()
	if lim.MaxFrameSize == 0 {
		lim.MaxFrameSize = 16 << 20
	}
	if lim.StallTimeout == 0 {
		lim.StallTimeout = time.Minute
	}
	if budget == nil {
		budget = NewBudget(1 << 30)
	}
	sc := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	q := NewQueue(sc, lim, budget, func(time.Duration, int64) { t.Error("stall reported") })
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(func(err error) { q.Close(err) })
	}()
	t.Cleanup(func() {
		q.Close(errEnded)
		sc.Close()
		<-done
	})
	return q, sc
}

var errEnded = errors.New("connection ended")

// The send queue keeps the order of the sends, makes senders wait while
// more than maxQueuedBytes wait to be written, lets them go once the
// writer drains it, and fails them when the connection ends.
func TestSendQueueBackPressure(t *testing.T) {
	c, sc := newTestQueue(t, Limits{MaxBytes: 4 << 20}, nil)

	const size = 1 << 20
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	// The writer takes the first message and stalls on it; it counts
	// until written, so with the next three (4 MiB in all) the queue is
	// past its limit and the fifth sender waits.
	if err := c.SendRaw(msg(0)); err != nil {
		t.Fatal(err)
	}
	<-sc.entered
	for i := 1; i <= 3; i++ {
		if err := c.SendRaw(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- c.SendRaw(msg(4)) }()
	select {
	case err := <-sent:
		t.Fatalf("a send over the limit returned (%v) while the writer was stalled", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(sc.gate) // the writer drains the queue
	select {
	case err := <-sent:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting sender was not let go once the queue drained")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		sc.mu.Lock()
		got := len(sc.writes)
		sc.mu.Unlock()
		if got == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sc.mu.Lock()
	for i, w := range sc.writes {
		if len(w) != size || w[0] != byte(i) {
			t.Fatalf("write %d holds message %d; want the order of the sends", i, w[0])
		}
	}
	if len(sc.writes) != 5 {
		t.Fatalf("%d messages written, want 5", len(sc.writes))
	}
	sc.mu.Unlock()

	// A sender waiting for room when the connection ends gets its error.
	c2, sc2 := newTestQueue(t, Limits{MaxBytes: 4 << 20}, nil)
	// As above: the writer stalls on the first message before the next
	// three fill the queue, else it may take some of them and leave room.
	_ = c2.SendRaw(msg(0))
	<-sc2.entered
	for i := 1; i <= 3; i++ {
		_ = c2.SendRaw(msg(i))
	}
	go func() { sent <- c2.SendRaw(msg(4)) }()
	time.Sleep(100 * time.Millisecond)
	c2.Close(errEnded)
	select {
	case err := <-sent:
		if !errors.Is(err, errEnded) {
			t.Fatalf("waiting sender got %v, want the connection's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sender waiting for room was not released when the connection ended")
	}
}

// boomErr panics when encoded (the encoder asks an error for its message).
type boomErr struct{}

func (boomErr) Error() string { panic("boom") }

// A stream's items join the buffer its previous item is queued in while
// the writer has not taken it, at most maxParts of them, and still leave
// as messages of their own, in order; a large item, or one whose encoding
// panics, leaves the buffer alone; once the writer has taken (and
// recycled) the buffer, the stream cannot append to it; and the queue's
// byte count comes back to zero.
func TestStreamItemsJoinQueuedBuffer(t *testing.T) {
	c, sc := newTestQueue(t, Limits{MaxBytes: 4 << 20}, nil)
	const streamID = 7
	s := &Appender{}
	next := 0
	var want []string // the items, in the order sent
	item := func(v string) {
		t.Helper()
		pkt := protocol.Packet{ID: uint32(1000 + next), Type: protocol.TypeStream, Impulse: true, Live: true,
			StreamID: streamID, StreamIndex: uint32(next), Data: v}
		size, err := c.AppendItem(s, &pkt)
		if err != nil {
			t.Fatal(err)
		}
		if size <= len(v) {
			t.Fatalf("AppendItem of %q reported a packet of %d bytes", v, size)
		}
		want = append(want, v)
		next++
	}
	// The writer stalls on a first message; the items queue behind it.
	if err := c.SendRaw([]byte("first")); err != nil {
		t.Fatal(err)
	}
	<-sc.entered
	for i := range 10 {
		item(fmt.Sprint("item ", i))
	}
	first := s.open
	if first == nil || first.parts != 10 {
		t.Fatalf("10 items queued behind a stalled writer: want them in one buffer of 10 parts, got %+v", first)
	}
	// An item whose encoding panics: the panic reaches the producer (whose
	// recover ends the stream) and the buffer stays open to the writer.
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("an item whose encoding panics did not panic")
			}
		}()
		_, _ = c.AppendItem(s, &protocol.Packet{ID: 1, Type: protocol.TypeStream, Impulse: true, Live: true,
			StreamID: streamID, StreamIndex: uint32(next), Data: protocol.Object{{Key: "err", Value: boomErr{}}}})
	}()
	if st := first.state.Load() & 3; st != stOpen || first.parts != 10 {
		t.Fatalf("after a panicking item the buffer is in state %d with %d parts, want open with 10", st, first.parts)
	}
	// A large item goes in a buffer of its own; later items join that one.
	item(strings.Repeat("x", 2*countStep))
	if first.parts != 10 {
		t.Fatalf("a large item joined the open buffer (%d parts)", first.parts)
	}
	for next < 11+maxParts+3 {
		item(fmt.Sprint("item ", next))
	}
	if s.open == first {
		t.Fatal("items kept joining the first buffer")
	}
	close(sc.gate)
	waitWrites := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			sc.mu.Lock()
			got := len(sc.writes)
			sc.mu.Unlock()
			if got >= want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d messages written, want %d", got, want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitWrites(1 + len(want))
	// The writer took and recycled the first buffer: the stream must not
	// append to it, even once it is back in use.
	if st := first.state.Load(); st&3 == stOpen && st>>2 == s.gen {
		t.Fatal("a written buffer is still open to its producer")
	}
	// The same with a buffer of the test's own (the pool may hand the
	// first one to anyone): shared, taken, retired and reused.
	w := &Buf{pooled: true}
	w.reuse()
	w.shared = true
	gen := w.state.Load() >> 2
	takeShared(w)
	w.retire()
	w.reuse()
	if st := w.state.Load(); st&3 != stOpen || st>>2 == gen {
		t.Fatalf("a reused buffer is in generation %d state %d, want open in a new generation", st>>2, st&3)
	}
	s.open, s.gen = w, gen // a producer still holding it
	item("after")
	if w.parts != 0 || len(w.B) != 0 || s.open == w {
		t.Fatal("the stream appended to a buffer recycled to another sender")
	}
	waitWrites(1 + len(want))

	sc.mu.Lock()
	defer sc.mu.Unlock()
	if string(sc.writes[0]) != "first" {
		t.Fatalf("write 0 = %q", sc.writes[0])
	}
	if len(sc.writes) != 1+len(want) {
		t.Fatalf("%d messages written, want %d", len(sc.writes), 1+len(want))
	}
	for i, w := range sc.writes[1:] {
		pkt, payload, err := protocol.SplitPacket(w, protocol.Limits{})
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		var got string
		if err := protocol.Unmarshal(payload, &got); err != nil {
			t.Fatal(err)
		}
		if pkt.StreamIndex != uint32(i) || got != want[i] {
			t.Fatalf("message %d is item %d %.20q, want item %d %.20q", i+1, pkt.StreamIndex, got, i, want[i])
		}
	}
	s.Release()
	if q := c.Queued(); q != 0 {
		t.Fatalf("the queue's byte count is %d after everything was written, want 0", q)
	}
}
