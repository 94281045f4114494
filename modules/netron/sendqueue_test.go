package netron

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
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
