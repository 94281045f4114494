package netron_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The events emitted before Stop reach the subscribed peer: Stop closes
// its connections once they are written and answered, not while the
// peer's answers to them are still arriving (a connection closed with
// input unread is reset, and what it had not sent yet is lost).
func TestStopDeliversEventsEmittedBefore(t *testing.T) {
	t.Parallel()
	const events = 2000
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{MaxQueuedEventsPerPeer: events, // none refused
		Reconnect: netron.ReconnectConfig{Disabled: true}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got atomic.Int64
	all := make(chan struct{})
	unsub, err := p.Subscribe(ctx, "stop.news", func(context.Context, netron.Event) {
		if got.Add(1) == events {
			close(all)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	payload := strings.Repeat("x", 1<<10) // 2 MiB in all: still on the way at Stop
	for range events {
		if err := s.n.Emit(ctx, "stop.news", payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-all:
	case <-time.After(5 * time.Second):
		t.Fatalf("the peer got %d of the %d events emitted before Stop", got.Load(), events)
	}
}

// A browser answers an emitted event with a CALL packet, not a TASK
// (NETRON-WIRE.md §5.8, vector packet_task_emit_ack_from_browser): Stop
// counts it as the event's answer, and does not wait a RequestTimeout for
// one that came.
func TestStopTakesABrowsersAnswersToEvents(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{RequestTimeout: 5 * time.Second}, nil)
	c := dialRaw(t, s.addr)
	c.handshake("browser")
	c.write(packetFrame(t, &protocol.Packet{ID: 1, Type: protocol.TypeTask, Impulse: true,
		Data: []any{netron.TaskSubscribe, "news"}})[4:])
	c.read() // the subscription's answer
	ctx := context.Background()
	for i := range 3 {
		if err := s.n.Emit(ctx, "news", i); err != nil {
			t.Fatal(err)
		}
		emit := c.read()
		if len(emit) < 5 || emit[4]&0x40 == 0 {
			t.Fatalf("frame % x is not an emit request", emit)
		}
		c.write(append(emit[:4:4], 0x03, 0xc0)) // as netron-browser answers
	}
	start := time.Now()
	if err := s.n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Stop took %v after the browser had answered every event, want far less than the RequestTimeout (5s)", took)
	}
}
