package netron_test

import (
	"context"
	"testing"
	"time"

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
