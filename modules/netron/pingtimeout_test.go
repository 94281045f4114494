package netron_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A ping whose context has no deadline is bounded by Config.RequestTimeout,
// as a call is: a peer that never echoes it fails the ping with
// deadline_exceeded instead of holding it until the connection ends (the
// health module pings peers this way).
func TestPingAppliesRequestTimeout(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A peer that completes the handshake, then reads everything and
	// answers nothing.
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		id := []byte(`{"type":"id","id":"mute"}`)
		if _, err := c.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(id))), id...)); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c)
	}()
	const timeout = 300 * time.Millisecond
	p := dialWith(t, "tcp://"+ln.Addr().String(), netron.Config{RequestTimeout: timeout})
	done := make(chan error, 1)
	go func() {
		_, err := p.Ping(context.Background())
		done <- err
	}()
	select {
	case err := <-done:
		if netron.CodeOf(err) != netron.CodeDeadlineExceeded {
			t.Fatalf("a ping the peer never echoes: %v; want deadline_exceeded", err)
		}
	case <-time.After(10 * time.Second):
		_ = p.Close()
		<-done
		t.Fatalf("a ping the peer never echoes, with requestTimeout %v and no deadline, had not returned after 10 s", timeout)
	}
}
