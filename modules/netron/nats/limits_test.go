package nats_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

// A client that invents an inbox for every stream it opens is held by the
// instance's bound on open streams, all callers together (10 times
// Config.MaxStreamsPerPeer): a stream over it is refused with
// resource_exhausted naming the limit, the gateway holds no goroutine for
// it, and a well-behaved caller's open stream goes on and its calls are
// served; once the flood ends, streams open again. Before, every invented
// inbox had MaxStreamsPerPeer streams of its own, so the instance held a
// goroutine per stream, without bound, until each reader went idle.
func TestStreamFloodUnderInventedInboxesIsBounded(t *testing.T) {
	const perPeer, flood = 2, 300
	const limit = 10 * perPeer // the instance's bound
	r := serveRawCalc(t, netron.Config{MaxStreamsPerPeer: perPeer})
	ctx, calc, nc, prefix := r.ctx, r.calc, r.nc, r.prefix

	// A well-behaved caller's stream, open before the flood.
	p := dial(t, r.addr, netron.Config{StreamWindow: 1})
	s, err := p.OpenStream(ctx, "calculator@1.0.0", "count", 1000000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	if err := s.Recv(&v); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the stream waits for credits
	before, produced := runtime.NumGoroutine(), calc.produced.Load()

	// The flooder: each stream under an inbox of its own, all of them on
	// one subscription that answers the instance's probes, so that no
	// stream ends by itself.
	base := nc.NewInbox()
	var (
		mu               sync.Mutex
		accepted, refuse int
		refusal          *protocol.TitanError
		bad              []string
	)
	sub, err := nc.Subscribe(base+".>", func(m *nats.Msg) {
		switch {
		case strings.HasSuffix(m.Subject, ".alive"):
			_ = m.Respond(nil)
		case strings.HasSuffix(m.Subject, ".r.1") && m.Header.Get(natstransport.HeaderAck) == "":
			pkt, err := protocol.DecodePacket(m.Data, protocol.Limits{})
			te, _ := pkt.Data.(*protocol.TitanError)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && !pkt.Error:
				accepted++
			case err == nil && te != nil && te.GoCode() == "resource_exhausted":
				refuse++
				refusal = te
			default:
				bad = append(bad, fmt.Sprintf("%s: %v %#v", m.Subject, err, pkt.Data))
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	args, _ := protocol.AppendValue(nil, []any{1000000})
	for i := range flood {
		inbox := base + "." + strconv.Itoa(i)
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.count")
		m.Reply, m.Data = inbox+".r.1", args
		m.Header.Set(natstransport.HeaderInbox, inbox)
		m.Header.Set(natstransport.HeaderStream, "1")
		m.Header.Set(natstransport.HeaderWindow, "1")
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	answered := func() int {
		mu.Lock()
		defer mu.Unlock()
		return accepted + refuse + len(bad)
	}
	deadline := time.Now().Add(10 * time.Second)
	for answered() < flood && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the accepted streams wait for credits
	held := runtime.NumGoroutine() - before

	mu.Lock()
	t.Logf("%d streams accepted, %d refused, %d goroutines more than before the flood", accepted, refuse, held)
	if len(bad) > 0 {
		t.Errorf("%d unexpected answers, first: %s", len(bad), bad[0])
	}
	if accepted+refuse != flood {
		t.Errorf("%d of %d streams answered", accepted+refuse, flood)
	}
	if accepted > limit-1 { // the well-behaved caller holds one
		t.Errorf("%d streams under distinct inboxes accepted beside the well-behaved one, want at most %d", accepted, limit-1)
	}
	if refusal == nil || !strings.Contains(refusal.Message, "limit "+strconv.Itoa(limit)) {
		t.Errorf("the refusal %#v does not name the limit %d", refusal, limit)
	}
	accepted64 := int64(accepted)
	mu.Unlock()
	// Each accepted stream's producer made its first item and waits to
	// yield the second; a refused stream's method does not run.
	if got := calc.produced.Load() - produced; got > 2*accepted64 {
		t.Errorf("the flood's methods produced %d items for %d accepted streams", got, accepted64)
	}
	const allowance = 50
	if held > limit+allowance {
		t.Errorf("the instance holds %d goroutines more during a flood of %d streams (bound %d streams)", held, flood, limit)
	}

	// The well-behaved caller: its stream goes on, its calls are served,
	// and a new stream of its own is refused while the flood holds the
	// instance's streams.
	for i := 1; i <= 10; i++ {
		if err := s.Recv(&v); err != nil || v != i {
			t.Fatalf("the well-behaved stream's item %d during the flood: %d, %v", i, v, err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	sum, err := netron.CallUnary[float64](cctx, p, "calculator@1.0.0", "add", 1, 2)
	cancel()
	if err != nil || sum != 3 {
		t.Errorf("a well-behaved call during the flood: %v, %v", sum, err)
	}
	if s2, err := p.OpenStream(ctx, "calculator@1.0.0", "count", 1); netron.CodeOf(err) != netron.CodeResourceExhausted {
		if s2 != nil {
			s2.Close()
		}
		t.Errorf("a new stream while the flood holds the instance's streams: %v, want resource_exhausted", err)
	}

	// The flooder goes: its streams end at the next probe, and streams
	// open again.
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		n := 0
		var err error
		for _, err = range netron.CallStream[int](ctx, p, "calculator@1.0.0", "count", 3) {
			if err != nil {
				break
			}
			n++
		}
		if err == nil && n == 3 {
			break
		}
		if netron.CodeOf(err) != netron.CodeResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("a stream after the flood: %d items, %v", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A Titan-Timeout beyond what a time.Duration holds in milliseconds (about
// 292 years) is the longest deadline the instance can keep, not a
// wrapped-around one: the call runs. A negative or non-numeric one is
// refused with invalid_argument naming the header, and the method does
// not run. Before, the milliseconds were multiplied into a Duration that
// overflowed: a negative or tiny deadline answered at once with
// deadline_exceeded ("the call waited -2562047h47m16.85s for a slot ..."), and
// a number beyond int64 was refused although it only asks for a long wait.
func TestTimeoutHeaderBeyondDuration(t *testing.T) {
	t.Parallel()
	r := serveRawCalc(t, netron.Config{})
	ctx, calc, nc, prefix := r.ctx, r.calc, r.nc, r.prefix
	inbox := nc.NewInbox()
	answers, err := nc.SubscribeSync(inbox + ".r.>")
	if err != nil {
		t.Fatal(err)
	}
	defer answers.Unsubscribe()
	for i, tc := range []struct {
		name, timeout string
		want          string // code name of the error, "" for success
	}{
		{"largest whole milliseconds of a Duration", "9223372036854", ""},
		{"one past", "9223372036855", ""},
		{"wraps to under a millisecond", "18446744073710", ""},
		{"largest int64", "9223372036854775807", ""},
		{"beyond int64", "99999999999999999999", ""},
		{"negative", "-1", "invalid_argument"},
		{"negative beyond int64", "-99999999999999999999", "invalid_argument"},
		{"not a number", "soon", "invalid_argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := calc.calls.Load()
			args, _ := protocol.AppendValue(nil, []any{20})
			m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.work")
			m.Reply, m.Data = inbox+".r."+strconv.Itoa(i), args
			m.Header.Set(natstransport.HeaderInbox, inbox)
			m.Header.Set(natstransport.HeaderCall, strconv.Itoa(i))
			m.Header.Set(natstransport.HeaderTimeout, tc.timeout)
			if err := nc.PublishMsg(m); err != nil {
				t.Fatal(err)
			}
			var pkt protocol.Packet
			for {
				a, err := answers.NextMsgWithContext(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if a.Header.Get(natstransport.HeaderAck) != "" {
					continue
				}
				if pkt, err = protocol.DecodePacket(a.Data, protocol.Limits{}); err != nil {
					t.Fatal(err)
				}
				break
			}
			te, _ := pkt.Data.(*protocol.TitanError)
			switch {
			case tc.want == "" && pkt.Error:
				t.Errorf("%s %s: %#v, want the call to run", natstransport.HeaderTimeout, tc.timeout, pkt.Data)
			case tc.want == "":
				if v, ok := pkt.Data.(int64); !ok || v != 20 {
					t.Errorf("%s %s: %#v, want 20", natstransport.HeaderTimeout, tc.timeout, pkt.Data)
				}
			case !pkt.Error || te == nil || te.GoCode() != tc.want || !strings.Contains(te.Message, natstransport.HeaderTimeout):
				t.Errorf("%s %s: %#v, want %s naming the header", natstransport.HeaderTimeout, tc.timeout, pkt.Data, tc.want)
			case calc.calls.Load() != calls:
				t.Errorf("%s %s: the method ran", natstransport.HeaderTimeout, tc.timeout)
			}
		})
	}
}
