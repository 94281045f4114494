package nats

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The stream id in the answer to a call ([HeaderStream]) must be the one
// the call chose: an answer naming another (here the id of a stream the
// connection has open with an instance, from anyone subscribed to the
// call's subject) fails the call with internal naming a malformed answer,
// and the open stream stays with its instance. It used to be taken as it
// was: the open stream was handed to whoever answered, its credits went
// there, and probing that "instance" ended the stream as gone.
func TestAnswerNamingAnotherStreamIsRefused(t *testing.T) {
	u := privateURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, g := serveCounter(t, ctx, n, u)

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
	write(&protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true, Data: []any{"counter@1.0.0", "count", 1 << 30}})
	ref, ok := read().Data.(protocol.StreamReference)
	if !ok {
		t.Fatal("the stream call was not answered with a stream reference")
	}

	pub, err := nats.Connect("nats://" + u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	// Not an instance: anyone who may subscribe to a call's subject.
	answer, _ := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.TypeCall, Data: 1})
	sub, err := pub.Subscribe(c.subj.call("forged", "1.0.0", "get"), func(m *nats.Msg) {
		r := nats.NewMsg(m.Reply)
		r.Header.Set(HeaderInstance, "forger")
		r.Header.Set(HeaderStream, strconv.FormatUint(uint64(ref.StreamID), 10))
		r.Data = answer
		_ = pub.PublishMsg(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := pub.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	write(&protocol.Packet{ID: 2, Type: protocol.TypeCall, Impulse: true, Data: []any{"forged@1.0.0", "get"}})
	for {
		pkt := read()
		if pkt.Type == protocol.TypeStream {
			continue // the open stream's items
		}
		te, _ := pkt.Data.(*protocol.TitanError)
		if pkt.ID != 2 || !pkt.Error || te == nil || te.GoCode() != "internal" || !strings.Contains(te.Message, "malformed answer") {
			t.Errorf("a call answered naming another call's stream: %v %#v, want internal naming a malformed answer", pkt.Type, pkt.Data)
		}
		break
	}
	c.mu.Lock()
	s := c.streams[ref.StreamID]
	c.mu.Unlock()
	if s == nil || s.inst != g.Instance() {
		t.Fatalf("the open stream %d is now %+v, want it with instance %s", ref.StreamID, s, g.Instance())
	}
}
