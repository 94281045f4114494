package nats_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// rawCalc is a Calc served on NATS and a raw nats.go connection to its
// bus, for tests that speak the wire themselves.
type rawCalc struct {
	ctx    context.Context
	addr   string // the Netron's nats:// address
	calc   *Calc
	nc     *nats.Conn
	prefix string // of the subjects
}

// serveRawCalc serves a Calc as calculator@1.0.0 on NATS with cfg.
func serveRawCalc(t *testing.T, cfg netron.Config) rawCalc {
	t.Helper()
	r := rawCalc{addr: testURL(t), calc: newCalc()}
	n, err := netron.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.ctx = serveOnNATS(t, n, r.addr, "calculator", "1.0.0", r.calc)
	r.nc, r.prefix = rawNATS(t, r.addr)
	return r
}

// A caller that opens streams and grants no credit holds at most
// maxStreamsPerPeer of them: the stream over it is refused with
// resource_exhausted, as on a stream connection; calls are served
// meanwhile.
func TestStreamsPerCallerAreBounded(t *testing.T) {
	const streams = 6
	r := serveRawCalc(t, netron.Config{MaxStreamsPerPeer: streams})
	ctx, nc, prefix := r.ctx, r.nc, r.prefix
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
	p := dial(t, r.addr, netron.Config{})
	if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Errorf("a call while a caller holds %d streams: %v", streams, err)
	}
}

// A caller that opens a second stream with the id of one it has open gets
// invalid_argument naming the id, and the method does not run; the first
// stream goes on.
func TestDuplicateStreamIDIsRefused(t *testing.T) {
	r := serveRawCalc(t, netron.Config{})
	ctx, calc, nc, prefix := r.ctx, r.calc, r.nc, r.prefix
	inbox := nc.NewInbox()
	items, err := nc.SubscribeSync(inbox + ".s")
	if err != nil {
		t.Fatal(err)
	}
	defer items.Unsubscribe()
	alive, err := nc.Subscribe(inbox+".alive", func(m *nats.Msg) { _ = m.Respond(nil) })
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Unsubscribe()
	open := func(count int) (protocol.Packet, string) {
		t.Helper()
		args, _ := protocol.AppendValue(nil, []any{count})
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.count")
		m.Data = args
		m.Header.Set(natstransport.HeaderInbox, inbox)
		m.Header.Set(natstransport.HeaderStream, "7")
		m.Header.Set(natstransport.HeaderWindow, "1")
		for {
			r, err := nc.RequestMsgWithContext(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			if r.Header.Get(natstransport.HeaderAck) != "" {
				continue
			}
			pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			return pkt, r.Header.Get(natstransport.HeaderInstance)
		}
	}
	first, inst := open(1000) // waits for credits after its first item
	if first.Error {
		t.Fatalf("first stream: %#v", first.Data)
	}
	if _, err := items.NextMsgWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	produced := calc.produced.Load()
	second, _ := open(1)
	te, _ := second.Data.(*protocol.TitanError)
	if !second.Error || te == nil || te.GoCode() != "invalid_argument" || !strings.Contains(te.Message, "stream id 7") {
		t.Fatalf("a second stream with id 7: %#v, want invalid_argument naming 7", second.Data)
	}
	if calc.produced.Load() != produced {
		t.Errorf("the refused stream's method ran")
	}
	// The first stream is still known to the instance: a credit reaches it.
	grant := nats.NewMsg(prefix + ".inst." + inst + ".credit")
	grant.Header.Set(natstransport.HeaderInbox, inbox)
	grant.Header.Set(natstransport.HeaderStream, "7")
	grant.Data = []byte("1")
	if err := nc.PublishMsg(grant); err != nil {
		t.Fatal(err)
	}
	m, err := items.NextMsg(3 * time.Second)
	if err != nil {
		t.Fatalf("the first stream after the refused one: %v", err)
	}
	pkt, err := protocol.DecodePacket(m.Data, protocol.Limits{})
	if err != nil || pkt.StreamIndex != 1 {
		t.Fatalf("the first stream's second item: %+v %v", pkt, err)
	}
	closeMsg := nats.NewMsg(prefix + ".inst." + inst + ".close")
	closeMsg.Header.Set(natstransport.HeaderInbox, inbox)
	closeMsg.Header.Set(natstransport.HeaderStream, "7")
	_ = nc.PublishMsg(closeMsg)
}

// TestDuplicateCallIDIsRefused: a call sent with the inbox and call id of
// a call the same caller has running is refused with invalid_argument
// naming the id, and the first call is still the one a cancel reaches.
// Before, the second took over the first's entry: the method ran, and a
// cancel for the id reached only the second.
func TestDuplicateCallIDIsRefused(t *testing.T) {
	rc := serveRawCalc(t, netron.Config{})
	ctx, calc, nc, prefix := rc.ctx, rc.calc, rc.nc, rc.prefix
	inbox := nc.NewInbox()
	answers, err := nc.SubscribeSync(inbox + ".r.>")
	if err != nil {
		t.Fatal(err)
	}
	defer answers.Unsubscribe()
	send := func(reply string, ms int) {
		t.Helper()
		args, _ := protocol.AppendValue(nil, []any{ms})
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.work")
		m.Reply, m.Data = reply, args
		m.Header.Set(natstransport.HeaderInbox, inbox)
		m.Header.Set(natstransport.HeaderCall, "5")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	// next returns the next answer to reply that is not an acknowledgement.
	next := func() (*nats.Msg, protocol.Packet) {
		t.Helper()
		for {
			r, err := answers.NextMsgWithContext(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Header.Get(natstransport.HeaderAck) != "" {
				continue
			}
			pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			return r, pkt
		}
	}
	send(inbox+".r.first", 5000)
	deadline := time.Now().Add(5 * time.Second)
	for calc.calls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	send(inbox+".r.second", 1)
	r, pkt := next()
	te, _ := pkt.Data.(*protocol.TitanError)
	if r.Subject != inbox+".r.second" || !pkt.Error || te == nil || te.GoCode() != "invalid_argument" || !strings.Contains(te.Message, "call id 5") {
		t.Fatalf("the second call with id 5 (%s): %#v, want invalid_argument naming 5", r.Subject, pkt.Data)
	}
	if got := calc.calls.Load(); got != 1 {
		t.Errorf("%d calls ran, want the first only", got)
	}
	// A cancel for id 5 reaches the first call.
	cancelMsg := nats.NewMsg(prefix + ".inst." + r.Header.Get(natstransport.HeaderInstance) + ".cancel")
	cancelMsg.Header.Set(natstransport.HeaderInbox, inbox)
	cancelMsg.Header.Set(natstransport.HeaderCall, "5")
	if err := nc.PublishMsg(cancelMsg); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r, pkt = next()
	if r.Subject != inbox+".r.first" || !pkt.Error || time.Since(start) > 3*time.Second {
		t.Fatalf("the first call after a cancel (%s, after %v): %#v, want an error well before its 5 s", r.Subject, time.Since(start), pkt.Data)
	}
}
