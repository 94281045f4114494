package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// hangAccess's Identify ignores its context on the token "hang" until
// release is closed; it lets anyone else call anything.
type hangAccess struct{ release chan struct{} }

func (a hangAccess) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	if c.Token == "hang" {
		<-a.release
	}
	return ctx, nil
}

func (hangAccess) Visible(context.Context, *netron.MethodSpec) bool { return true }

// An Access's Identify gets the Netron's TaskTimeout in a resolve over
// NATS, as an authenticator does: one that ignores its context on some
// token is answered deadline_exceeded naming netron.taskTimeout in about
// that time, and other resolves are answered meanwhile. It used to hold
// the service's resolve subscription until it returned: its caller waited
// for its own deadline, and every other resolve of the service went
// unanswered.
func TestIdentifyIgnoringItsContextInAResolve(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	access := hangAccess{release: make(chan struct{})}
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond}, nil, netron.WithAccess(access))
	if err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	// Before the Netron stops: its gateway waits for Identify.
	t.Cleanup(func() { close(access.release) })
	nc, prefix := rawNATS(t, addr)
	resolve := func(token string) (protocol.Packet, time.Duration, error) {
		msg := nats.NewMsg(prefix + ".resolve.calculator")
		msg.Header.Set(natstransport.HeaderTarget, "calculator@^1")
		if token != "" {
			md, _ := json.Marshal(map[string]string{"authorization": "Bearer " + token})
			msg.Header.Set(natstransport.HeaderMetadata, string(md))
		}
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		r, err := nc.RequestMsgWithContext(rctx, msg)
		if err != nil {
			return protocol.Packet{}, time.Since(start), err
		}
		pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
		return pkt, time.Since(start), err
	}
	pkt, took, err := resolve("hang")
	if got := fmt.Sprintf("%#v", pkt.Data); err != nil || !pkt.Error || !strings.Contains(got, `"deadline_exceeded"`) ||
		!strings.Contains(got, "netron.taskTimeout") || took > 2*time.Second {
		t.Fatalf("a resolve whose Identify ignores its context: %#v, %v after %v, want deadline_exceeded naming netron.taskTimeout within about 200ms",
			pkt.Data, err, took.Round(time.Millisecond))
	}
	// The first Identify still runs.
	pkt, took, err = resolve("")
	if def, ok := pkt.Data.(*protocol.Definition); err != nil || !ok || def.ID != "calculator@1.0.0" {
		t.Fatalf("another resolve while an Identify hangs: %#v, %v after %v, want the calculator's definition", pkt.Data, err, took.Round(time.Millisecond))
	}
}
