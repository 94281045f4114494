package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// panicAccess panics in Identify on the token "boom", and in Visible for
// the caller of the token "blind"; it lets anyone else call anything.
type panicAccess struct{}

type blindKey struct{}

func (panicAccess) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	switch c.Token {
	case "boom":
		panic("the app's access policy failed in Identify")
	case "blind":
		return context.WithValue(ctx, blindKey{}, true), nil
	}
	return ctx, nil
}

func (panicAccess) Visible(ctx context.Context, _ *netron.MethodSpec) bool {
	if ctx.Value(blindKey{}) != nil {
		panic("the app's access policy failed in Visible")
	}
	return true
}

// The gateway calls the app's Access outside the engine, on goroutines
// with no recover above them: a panic there ends that call or resolve
// internal, and the instance goes on serving (it used to end the process).
func TestPanickingAccessOverNATS(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{}, nil, netron.WithAccess(panicAccess{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	p := dial(t, addr, netron.Config{})
	bearer := func(token string) context.Context {
		return netron.WithOutgoingMetadata(ctx, map[string]string{"authorization": "Bearer " + token})
	}
	if _, err := p.Call(bearer("boom"), "calculator@1.0.0", "add", 1, 2); netron.CodeOf(err) != netron.CodeInternal {
		t.Errorf("a call with a token Identify panics on: %v, want internal", err)
	}

	nc, prefix := rawNATS(t, addr)
	msg := nats.NewMsg(prefix + ".resolve.calculator")
	msg.Header.Set(natstransport.HeaderTarget, "calculator@^1")
	md, _ := json.Marshal(map[string]string{"authorization": "Bearer blind"})
	msg.Header.Set(natstransport.HeaderMetadata, string(md))
	r, err := nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		t.Fatalf("a resolve whose caller Visible panics on: %v, want an answer", err)
	}
	pkt, err := protocol.DecodePacket(r.Data, protocol.Limits{})
	if err != nil || !pkt.Error || !strings.Contains(fmt.Sprint(pkt.Data), "internal error") {
		t.Errorf("a resolve whose caller Visible panics on: %v %#v, want an internal error", err, pkt.Data)
	}

	got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2)
	if err != nil || got != 3 {
		t.Fatalf("a call after the panics: %v %v, want 3", got, err)
	}
}
