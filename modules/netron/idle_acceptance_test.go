package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/titanframework/titan/modules/netron"
)

// idleConfig probes after 100 ms of silence and waits 100 ms for the answer.
var idleConfig = netron.Config{IdleTimeout: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond}

// A connection that goes silent and does not answer the server's ping is
// closed, with a log record that says why.
func TestAcceptanceIdleConnectionClosed(t *testing.T) {
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", idleConfig, log)
	c := dialRaw(t, s.addr)
	c.handshake("silent")
	expectAdd(t, c, 1, 2, 3)
	// The server's PING arrives; it is not answered.
	msg := c.read()
	if len(msg) < 5 || msg[4]&0x0f != 0 || msg[4]&0x40 == 0 {
		t.Fatalf("after 100 ms of silence the server sent % x; want a PING request", msg)
	}
	if _, err := c.readFrame(2 * time.Second); err == nil {
		t.Fatal("the connection is still open after an unanswered ping")
	}
	rec.waitFor(t, "closing connection: silent and did not answer a ping")
}

// A silent peer that answers pings keeps its connection.
func TestAcceptanceIdlePeerThatAnswersStays(t *testing.T) {
	s, _ := netronServer(t, "tcp", idleConfig, nil)
	p := dialWith(t, s.addr, netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}})
	if _, err := netron.CallUnary[int](context.Background(), p, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // ten idle periods, each probed and answered
	select {
	case <-p.Done():
		t.Fatal("a peer that answers pings was closed")
	default:
	}
	if v, err := netron.CallUnary[int](context.Background(), p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("add after a silent second: %v, %v", v, err)
	}
}

// Over WebSocket the probe is a ping frame, which a browser answers on its
// own: a client that reads but never sends a packet (netron-browser
// ignores Netron PINGs) keeps its connection; one that reads nothing is
// closed.
//
// The probe comes after 100 ms of silence, as in idleConfig; the answer is
// waited for 1 s, so that a machine under load, slow to run the reader,
// does not fail the reader's probes. The server waits 100 ms (not the
// default second) for the close frame the silent client never sends.
func TestAcceptanceIdleWebSocket(t *testing.T) {
	cfg := idleConfig
	cfg.PingTimeout = time.Second
	s, _ := netronServer(t, "ws", cfg, nil, netron.WithCloseTimeout(100*time.Millisecond))
	dialWS := func() *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, s.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	// The reader answers pings (coder/websocket does while a read is
	// pending) and ignores what arrives.
	reader := dialWS()
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := reader.Read(context.Background()); err != nil {
				readErr <- err
				return
			}
		}
	}()
	silent := dialWS() // never reads: its pings go unanswered
	// Both clients are peers first (the server registers a WebSocket peer
	// once its upgrade is done, which under load may lag the dial)...
	deadline := time.Now().Add(3 * time.Second)
	for len(s.n.Peers()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d peers after two WebSocket dials; want 2", len(s.n.Peers()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// ...then the silent one is closed by the probe (after 100 ms of
	// silence, 1 s without an answer and 100 ms without a close frame).
	deadline = time.Now().Add(10 * time.Second)
	for len(s.n.Peers()) > 1 {
		if time.Now().After(deadline) {
			t.Fatal("a WebSocket client that reads nothing was not closed by the idle probe")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = silent
	// The reader stays through ten idle periods, each probed and answered
	// (counted by the server, which closes the connection of a probe not
	// answered), however long the machine takes to run them.
	ps := s.n.Peers()
	if len(ps) != 1 {
		t.Fatalf("%d peers after the silent client was closed; want the one that answers pings", len(ps))
	}
	reader1 := ps[0]
	deadline = time.Now().Add(30 * time.Second)
	for netron.IdleProbes(reader1) < 10 {
		select {
		case err := <-readErr:
			t.Fatalf("the client that answers pings lost its connection after %d probes: %v", netron.IdleProbes(reader1), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d probes answered by the reader in 30 s; want 10", netron.IdleProbes(reader1))
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-readErr:
		t.Fatalf("the client that answers pings lost its connection: %v", err)
	default:
	}
	if ps := s.n.Peers(); len(ps) != 1 || ps[0] != reader1 {
		t.Fatalf("%d peers; want the one that answers pings", len(ps))
	}
}
