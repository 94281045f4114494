package nats_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A caller that opens streams and grants no credit holds at most
// maxStreamsPerPeer of them: the stream over it is refused with
// resource_exhausted, as on a stream connection; calls are served
// meanwhile.
func TestStreamsPerCallerAreBounded(t *testing.T) {
	addr := testURL(t)
	const streams = 6
	n, err := netron.New(netron.Config{MaxStreamsPerPeer: streams}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	nc, prefix := rawNATS(t, addr)
	inbox := nc.NewInbox()
	items, err := nc.SubscribeSync(inbox + ".>") // answers the probes of nobody: a caller that never reads
	if err != nil {
		t.Fatal(err)
	}
	defer items.Unsubscribe()
	args, _ := protocol.AppendValue(nil, []any{1000000})
	open := func(sid int) (protocol.Packet, error) {
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.count")
		m.Data = args
		m.Header.Set(natstransport.HeaderInbox, inbox)
		m.Header.Set(natstransport.HeaderStream, strconv.Itoa(sid))
		m.Header.Set(natstransport.HeaderWindow, "1")
		r, err := nc.RequestMsgWithContext(ctx, m)
		if err != nil {
			return protocol.Packet{}, err
		}
		if r.Header.Get(natstransport.HeaderAck) != "" {
			return protocol.Packet{}, errors.New("an ack, not an answer")
		}
		return protocol.DecodePacket(r.Data, protocol.Limits{})
	}
	for sid := 1; sid <= streams; sid++ {
		pkt, err := open(sid)
		if err != nil || pkt.Error {
			t.Fatalf("stream %d: %v %#v", sid, err, pkt.Data)
		}
	}
	pkt, err := open(streams + 1)
	if err != nil {
		t.Fatal(err)
	}
	te, _ := pkt.Data.(*protocol.TitanError)
	if !pkt.Error || te == nil || te.GoCode() != "resource_exhausted" {
		t.Fatalf("stream %d of one caller: %#v, want resource_exhausted", streams+1, pkt.Data)
	}
	p := dial(t, addr, netron.Config{})
	if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Errorf("a call while a caller holds %d streams: %v", streams, err)
	}
}
