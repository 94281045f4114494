package netron_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// A peer closed while it reconnects to an address that accepts and never
// answers the handshake is closed at once: Close does not wait for the
// reconnect attempt's timeout.
func TestReconnectingPeerClosesAtOnce(t *testing.T) {
	first, addr := startAt(t, "tcp://127.0.0.1:0")
	p := dial(t, addr)
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Skip("cannot listen again on", addr, err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c // never answers
		}
	}()
	defer func() {
		for {
			select {
			case c := <-accepted:
				c.Close()
			default:
				return
			}
		}
	}()
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the peer did not try to reconnect")
	}
	start := time.Now()
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close of a reconnecting peer took %v, want at once", d)
	}
}
