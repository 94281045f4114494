package nats_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// An Access's Identify gets the Netron's TaskTimeout in a call over NATS,
// as in a resolve: one that ignores its context on some token is answered
// deadline_exceeded naming Identify and netron.taskTimeout in about that
// time, and gives up the call's slot, so that the caller's next call runs
// (its share is one slot here). It used to hold the slot until Identify
// returned: the caller's call was never answered, and its later calls
// waited in line behind it.
func TestIdentifyIgnoringItsContextInACall(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	access := hangAccess{release: make(chan struct{})}
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond, MaxCallsPerPeer: 1}, nil, netron.WithAccess(access))
	if err != nil {
		t.Fatal(err)
	}
	serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	// Before the Netron stops: its gateway waits for Identify.
	t.Cleanup(func() { close(access.release) })
	nc, prefix := rawNATS(t, addr)
	answers := subscribeAnswers(t, nc)
	args, _ := protocol.AppendValue(nil, []any{1, 2})
	// call sends add(1, 2) as the caller "c1" with the token, and returns
	// its answer (not an acknowledgement), or fails the test after 3 s.
	call := func(i int, token string) (protocol.Packet, time.Duration) {
		t.Helper()
		m := nats.NewMsg(prefix + ".rpc.calculator.1_0_0.add")
		m.Reply = answers.Subject[:len(answers.Subject)-1] + "r." + strconv.Itoa(i)
		m.Data = args
		m.Header.Set(natstransport.HeaderCaller, "c1")
		if token != "" {
			md, _ := json.Marshal(map[string]string{"authorization": "Bearer " + token})
			m.Header.Set(natstransport.HeaderMetadata, string(md))
		}
		start := time.Now()
		if err := nc.PublishMsg(m); err != nil {
			t.Fatal(err)
		}
		for deadline := start.Add(3 * time.Second); time.Now().Before(deadline); {
			a, err := answers.NextMsg(time.Until(deadline))
			if err != nil {
				break
			}
			if a.Subject != m.Reply || a.Header.Get(natstransport.HeaderAck) != "" {
				continue
			}
			pkt, err := protocol.DecodePacket(a.Data, protocol.Limits{})
			if err != nil {
				t.Fatalf("call %d answered %v", i, err)
			}
			return pkt, time.Since(start)
		}
		t.Fatalf("call %d (token %q) was not answered in 3 s", i, token)
		return protocol.Packet{}, 0
	}
	pkt, took := call(1, "hang")
	te, _ := pkt.Data.(*protocol.TitanError)
	if !pkt.Error || te == nil || te.GoCode() != "deadline_exceeded" || !strings.Contains(te.Message, "Identify") ||
		!strings.Contains(te.Message, "netron.taskTimeout") || took > 2*time.Second {
		t.Fatalf("a call whose Identify ignores its context: %#v after %v, want deadline_exceeded naming Identify and netron.taskTimeout within about 200ms",
			pkt.Data, took.Round(time.Millisecond))
	}
	// The first Identify still runs; the caller's slot is free again.
	if pkt, took = call(2, ""); pkt.Error || pkt.Data != float64(3) && pkt.Data != int64(3) {
		t.Fatalf("the caller's next call while an Identify hangs: %#v after %v, want 3", pkt.Data, took.Round(time.Millisecond))
	}
}
