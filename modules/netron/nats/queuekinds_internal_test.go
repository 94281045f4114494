package nats

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The bounds of what waits for the engine when a stream item or an event
// arrives at a dialled connection count the stream packets, or the
// events, that wait: answers to the engine's own calls waiting beside
// them (here more than maxQueuedStreamBytes of them) neither end an open
// stream as a slow consumer nor drop an event. They used to count every
// packet waiting: a burst of large answers ended the stream of the next
// item with resource_exhausted, and dropped the next event.
func TestAnswersWaitingLeaveStreamsAndEventsAlone(t *testing.T) {
	u := privateURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	serveCounter(t, ctx, n, u)

	c, read := dialled(t, ctx, u)
	defer c.Close()
	write := func(p *protocol.Packet) {
		t.Helper()
		b, err := protocol.AppendPacket(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WriteMessages(b); err != nil {
			t.Fatal(err)
		}
	}
	write(&protocol.Packet{ID: 1, Type: protocol.TypeTask, Impulse: true, Data: []any{netron.TaskSubscribe, "news"}})
	if pkt := read(); pkt.ID != 1 || pkt.Error {
		t.Fatalf("subscribe answered %#v", pkt)
	}
	write(&protocol.Packet{ID: 2, Type: protocol.TypeCall, Impulse: true, Data: []any{"counter@1.0.0", "count", 1 << 30}})
	ref, ok := read().Data.(protocol.StreamReference)
	if !ok {
		t.Fatal("the stream call was not answered with a stream reference")
	}
	// waitFor waits until cond, called with c.rmu held, holds.
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for {
			c.rmu.Lock()
			ok := cond()
			c.rmu.Unlock()
			if ok {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: not within 30 s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// lastIs reports whether the last packet waiting has type typ.
	lastIs := func(typ protocol.Type) bool {
		if len(c.rq) == 0 {
			return false
		}
		pkt, _, err := protocol.SplitPacket(c.rq[len(c.rq)-1], protocol.Limits{MaxFrameSize: 1 << 20})
		return err == nil && pkt.Type == typ
	}
	// The producer's window of items, unread.
	waitFor("the stream's window of items", func() bool { return len(c.rq) >= c.window })

	// Answers to the engine's calls, more bytes of them than a stream's
	// packets may be, unread: queued as onAnswer queues them (one
	// encoded answer, shared, so that the test does not move 64 MiB
	// through NATS).
	const size, calls = 960_000, maxQueuedStreamBytes/960_000 + 4
	answer, err := protocol.AppendPacket(nil, &protocol.Packet{ID: 10, Type: protocol.TypeCall, Data: strings.Repeat("a", size)})
	if err != nil {
		t.Fatal(err)
	}
	for range calls {
		c.push(answer)
	}

	// A credit: the producer sends the next item.
	write(&protocol.Packet{Type: protocol.TypeStream, StreamID: ref.StreamID, Data: 1})
	waitFor("the next stream item, or the stream's end", func() bool {
		return lastIs(protocol.TypeStream) && len(c.rq) > c.window+calls || lastIs(protocol.TypeStreamClose)
	})
	c.rmu.Lock()
	ended := lastIs(protocol.TypeStreamClose)
	c.rmu.Unlock()
	if ended {
		var last []byte
		for range len(c.rq) {
			last, _ = c.ReadMessage()
		}
		pkt, _ := protocol.DecodePacket(last, protocol.Limits{})
		reason, _ := pkt.Data.(protocol.Object).Get("reason")
		t.Fatalf("%d answers of %d bytes wait for the engine: the next item of an open stream ended it with %q", calls, size, reason)
	}

	// An event.
	pub, err := nats.Connect("nats://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	c.mu.Lock()
	s := c.events["news"]
	c.mu.Unlock()
	if err := pub.Publish(c.subj.event("news"), []byte{0x01}); err != nil {
		t.Fatal(err)
	}
	for {
		if got, err := s.Delivered(); err != nil || got >= 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the event was not delivered")
		}
		time.Sleep(time.Millisecond)
	}
	c.rmu.Lock()
	queued := lastIs(protocol.TypeTask)
	c.rmu.Unlock()
	if !queued {
		t.Fatalf("%d answers of %d bytes wait for the engine: an event was dropped", calls, size)
	}
}
