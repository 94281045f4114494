package netron

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
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

// The send queue keeps the order of the sends, makes senders wait while
// more than maxQueuedBytes wait to be written, lets them go once the
// writer drains it, and fails them when the connection ends.
func TestSendQueueBackPressure(t *testing.T) {
	n, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	sc := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	p := newPeer(n, sc, "test", false)
	c := p.cur.Load()
	go c.writeLoop()
	defer func() { c.close(nil); <-c.wdone }()

	const size = 1 << 20
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	// The writer takes the first message and stalls on it; the next five
	// (5 MiB) fill the queue past its limit, so the sixth sender waits.
	if err := c.sendRaw(msg(0)); err != nil {
		t.Fatal(err)
	}
	<-sc.entered
	for i := 1; i <= 5; i++ {
		if err := c.sendRaw(msg(i)); err != nil {
			t.Fatal(err)
		}
	}
	sent := make(chan error, 1)
	go func() { sent <- c.sendRaw(msg(6)) }()
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
		if got == 7 || time.Now().After(deadline) {
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
	if len(sc.writes) != 7 {
		t.Fatalf("%d messages written, want 7", len(sc.writes))
	}
	sc.mu.Unlock()

	// A sender waiting for room when the connection ends gets its error.
	sc2 := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	c2 := newPeer(n, sc2, "test", false).cur.Load()
	go c2.writeLoop()
	defer func() { <-c2.wdone }()
	// As above: the writer stalls on the first message before the next
	// five fill the queue, else it may take some of them and leave room.
	_ = c2.sendRaw(msg(0))
	<-sc2.entered
	for i := 1; i <= 5; i++ {
		_ = c2.sendRaw(msg(i))
	}
	go func() { sent <- c2.sendRaw(msg(6)) }()
	time.Sleep(100 * time.Millisecond)
	c2.close(errConnLost)
	select {
	case err := <-sent:
		if !errors.Is(err, errConnLost) {
			t.Fatalf("waiting sender got %v, want the connection's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sender waiting for room was not released when the connection ended")
	}
}

// A stream's items join the buffer its previous item is queued in while
// the writer has not taken it, and still leave as messages of their own,
// in order; once the writer has taken (and recycled) the buffer, the next
// item gets a new one and the recycled buffer is left alone.
func TestStreamItemsJoinQueuedBuffer(t *testing.T) {
	n, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	sc := &stallConn{gate: make(chan struct{}), entered: make(chan struct{}), closed: make(chan struct{})}
	c := newPeer(n, sc, "test", false).cur.Load()
	go c.writeLoop()
	defer func() { c.close(nil); <-c.wdone }()

	item := func(s *sendStream, i int) {
		t.Helper()
		pkt := protocol.Packet{ID: uint32(1000 + i), Type: protocol.TypeStream, Impulse: true, Live: true,
			StreamID: s.id, StreamIndex: uint32(i), Data: fmt.Sprint("item ", i)}
		if err := c.appendItem(s, &pkt); err != nil {
			t.Fatal(err)
		}
	}
	// The writer stalls on a first message; items 0-9 queue behind it.
	if err := c.sendRaw([]byte("first")); err != nil {
		t.Fatal(err)
	}
	<-sc.entered
	s := &sendStream{id: 7}
	for i := range 10 {
		item(s, i)
	}
	first := s.open
	if first == nil || first.parts != 10 {
		t.Fatalf("10 items queued behind a stalled writer: want them in one buffer of 10 parts, got %+v", first)
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
	waitWrites(11)
	// The writer took and recycled the buffer: a stale producer must not
	// append to it, even once another sender has it.
	if st := first.state.Load(); st&3 == stOpen && st>>2 == s.gen {
		t.Fatal("a written buffer is still open to its producer")
	}
	other := getBuf() // likely first again: the pool hands it back
	item(s, 10)
	if s.open == first && other == first {
		t.Fatal("the item joined a buffer recycled to another sender")
	}
	putBuf(other)
	waitWrites(12)

	sc.mu.Lock()
	defer sc.mu.Unlock()
	if string(sc.writes[0]) != "first" {
		t.Fatalf("write 0 = %q", sc.writes[0])
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
		if pkt.StreamIndex != uint32(i) || got != fmt.Sprint("item ", i) {
			t.Fatalf("message %d is item %d %q, want item %d in order", i+1, pkt.StreamIndex, got, i)
		}
	}
}
