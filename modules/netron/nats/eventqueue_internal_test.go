package nats

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// The events a dialled connection's subscription receives wait for the
// engine to read them at most as many and as many bytes at a time as the
// engine's defaults of Config.MaxQueuedEventsPerPeer and
// MaxQueuedEventBytesPerPeer; those over it are dropped, and once the engine has read what
// waits the next events are queued again. They used to be queued without
// bound: a publisher faster than the engine made the connection hold all
// it published (a flood of 300,000 events of 1 KiB held 190 MB).
func TestEventsWaitingForTheEngineAreBounded(t *testing.T) {
	maxEvents, maxBytes := netron.DefaultConfig().MaxQueuedEventsPerPeer, netron.DefaultConfig().MaxQueuedEventBytesPerPeer
	for _, tc := range []struct {
		name  string
		size  int // of an event's payload
		flood int
	}{
		{"by count", 8, 2 * maxEvents},
		{"by bytes", 64 << 10, 2 * maxBytes / (64 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := privateURL(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, read := dialled(t, ctx, u)
			defer c.Close()
			sub, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeTask, Impulse: true, Data: []any{netron.TaskSubscribe, "flood"}})
			if err := c.WriteMessages(sub); err != nil {
				t.Fatal(err)
			}
			if pkt := read(); pkt.ID != 1 || pkt.Error {
				t.Fatalf("subscribe answered %#v", pkt)
			}

			pub, err := nats.Connect("nats://" + u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			event, _ := protocol.AppendValue(nil, strings.Repeat("e", tc.size))
			publish := func(n int) {
				t.Helper()
				for range n {
					if err := pub.Publish(c.subj.event("flood"), event); err != nil {
						t.Fatal(err)
					}
				}
				if err := pub.FlushWithContext(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// delivered waits until the subscription has handed on n events
			// in all; nothing reads them meanwhile, as an engine behind.
			c.mu.Lock()
			s := c.events["flood"]
			c.mu.Unlock()
			delivered := func(n int) {
				t.Helper()
				for {
					got, err := s.Delivered()
					if err != nil {
						t.Fatal(err)
					}
					if got >= int64(n) {
						return
					}
					if ctx.Err() != nil {
						t.Fatalf("the subscription delivered %d events of %d", got, n)
					}
					time.Sleep(time.Millisecond)
				}
			}
			publish(tc.flood)
			delivered(tc.flood)
			c.rmu.Lock()
			queued, bytes := len(c.rq), 0
			for _, b := range c.rq {
				bytes += len(b)
			}
			c.rmu.Unlock()
			if queued > maxEvents || bytes > maxBytes {
				t.Fatalf("%d events published while the engine reads nothing: %d (%d bytes) wait for it, want at most %d (%d bytes)",
					tc.flood, queued, bytes, maxEvents, maxBytes)
			}
			if queued == 0 {
				t.Fatal("no event waits for the engine")
			}
			for range queued {
				if pkt := read(); pkt.Type != protocol.TypeTask || !pkt.Impulse {
					t.Fatalf("read %#v, want an emit task", pkt)
				}
			}
			// Read, the queue takes events again.
			publish(1)
			delivered(tc.flood + 1)
			if pkt := read(); pkt.Type != protocol.TypeTask || !pkt.Impulse {
				t.Fatalf("read %#v after the queue emptied, want an emit task", pkt)
			}
		})
	}
}

// dialled dials u as the engine does, reads the connection's hello, and
// returns the connection, for the caller to close, and a reader of its
// next packet.
func dialled(t *testing.T, ctx context.Context, u *url.URL) (*clientConn, func() protocol.Packet) {
	t.Helper()
	conn, err := Transport{}.Dial(ctx, u, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := conn.(*clientConn)
	read := func() protocol.Packet {
		t.Helper()
		b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := protocol.DecodePacket(b, protocol.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return pkt
	}
	if _, err := c.ReadMessage(); err != nil { // the connection's hello
		c.Close()
		t.Fatal(err)
	}
	return c, read
}

// privateURL is the URL of the test's NATS server with a subject prefix of
// its own, so that tests never see each other's subjects.
func privateURL(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(testsrv.NATS(t) + "?prefix=t" + strings.ToLower(nuid.Next()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// serveCounter registers a counter with n and serves n through a gateway
// at u until the test ends.
func serveCounter(t *testing.T, ctx context.Context, n *netron.Netron, u *url.URL) (*counter, *Gateway) {
	t.Helper()
	svc := &counter{stopped: make(chan struct{})}
	if err := n.Register("counter", "1.0.0", svc); err != nil {
		t.Fatal(err)
	}
	g, err := listen(ctx, n, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Shutdown(context.Background()) })
	return svc, g
}
