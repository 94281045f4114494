package nats_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// An Authenticator that panics on some credentials answers the
// authenticate task over NATS with internal, as the task of a stream
// connection does, and the instance goes on serving: the panic used to
// end the process, since the gateway runs the authenticator on the NATS
// subscription's goroutine.
func TestAuthenticatorPanicOverNATS(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.SetAuthenticator(func(ctx context.Context, _ *netron.Peer, creds any) (any, error) {
		o, _ := creds.(protocol.Object)
		if tok, _ := o.Get("token"); tok == "boom" {
			panic("the authenticator failed on a token")
		}
		return protocol.Object{{Key: "success", Value: true}}, nil
	})
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	p := dial(t, addr, netron.Config{})
	var res map[string]any
	err = p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: "boom"}})
	if netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("authenticate with a token the authenticator panics on: %v, want internal", err)
	}
	if err := p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: "fine"}}); err != nil || res["success"] != true {
		t.Fatalf("authenticate after the panic = %v, %v", res, err)
	}
	if _, err := p.Call(ctx, "calculator@1.0.0", "add", 1, 2); err != nil {
		t.Fatalf("a call after the panic: %v", err)
	}
}
