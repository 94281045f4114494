package netron_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// TestWebSocketTokenReachesAuthenticator: a token on the WebSocket upgrade
// (?token=) is checked by the Netron's authenticator before anything is
// served; a bad one closes the connection.
func TestWebSocketTokenReachesAuthenticator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil, netron.WithAuthenticator(func(_ context.Context, _ *netron.Peer, creds any) (any, error) {
		tok, _ := creds.(protocol.Object).Get("token")
		if tok != "good" {
			return nil, errors.New("Invalid token")
		}
		return protocol.Object{{Key: "success", Value: true}, {Key: "context", Value: protocol.Object{{Key: "userId", Value: "u-1"}}}}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(ctx, "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := dial(t, addr+"?token=good")
	if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("with a good token: %v, %v", v, err)
	}
	var authed bool
	for _, sp := range n.Peers() {
		if sp.AuthResult() != nil {
			authed = true
		}
	}
	if !authed {
		t.Fatal("no server-side peer carries the authentication result")
	}

	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	bad, err := netron.Dial(dctx, addr+"?token=bad")
	if err == nil {
		defer bad.Close()
		t.Fatal("a connection with a bad token was served")
	}
}
