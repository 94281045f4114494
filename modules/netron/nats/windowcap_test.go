package nats_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A caller that announces a stream window past the largest a Netron
// announces (Config.StreamWindow is at most 65536) and a huge byte window,
// then grants no credit, is sent at most 65536 items before the stream
// waits for its grant, as on a stream connection: the instance keeps the
// cost of every item sent and not granted back, so the window taken as
// sent let one caller make it hold 8 bytes per item for up to 2^31 items
// on every stream it opens.
func TestStreamWindowAnnouncedByCallerIsCapped(t *testing.T) {
	t.Parallel()
	r := serveRawCalc(t, netron.Config{StreamIdleTimeout: time.Second})
	ctx, nc, prefix := r.ctx, r.nc, r.prefix
	const items, maxWindow = 70000, 65536
	inbox := nc.NewInbox()
	var got atomic.Int64
	ended := make(chan protocol.Packet, 1)
	sub, err := nc.Subscribe(inbox+".s", func(m *nats.Msg) {
		pkt, err := protocol.DecodePacket(m.Data, protocol.Limits{})
		switch {
		case err != nil:
		case pkt.Type == protocol.TypeStream && !pkt.EOS:
			got.Add(1)
		default:
			ended <- pkt
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	_ = sub.SetPendingLimits(-1, -1)
	alive, err := nc.Subscribe(inbox+".alive", func(m *nats.Msg) { _ = m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Unsubscribe()
	args, _ := protocol.AppendValue(nil, []any{items})
	m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.count")
	m.Data = args
	m.Header.Set(natstransport.HeaderInbox, inbox)
	m.Header.Set(natstransport.HeaderStream, "1")
	m.Header.Set(natstransport.HeaderWindow, strconv.Itoa(1<<31-1))
	m.Header.Set(natstransport.HeaderWindowBytes, strconv.FormatInt(1<<62, 10))
	for {
		a, err := nc.RequestMsgWithContext(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if a.Header.Get(natstransport.HeaderAck) != "" {
			continue
		}
		if pkt, err := protocol.DecodePacket(a.Data, protocol.Limits{}); err != nil || pkt.Error {
			t.Fatalf("the stream's answer: %#v, %v", pkt.Data, err)
		}
		break
	}
	select {
	case pkt := <-ended:
		n := got.Load()
		if n > maxWindow {
			t.Fatalf("sent %d stream items with no credit granted; want at most %d", n, maxWindow)
		}
		if pkt.Type != protocol.TypeStreamClose || n != maxWindow {
			t.Fatalf("stream ended (%v, end of stream %v) after %d items; want it closed, its reader idle, after the window of %d",
				pkt.Type, pkt.EOS, n, maxWindow)
		}
	case <-ctx.Done():
		t.Fatalf("after %d items without a grant the stream did not end", got.Load())
	}
}
