package netron_test

import (
	"context"
	"errors"
	"strings"
	"sync"
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

// TestStopDoesNotWaitPastItsContextForAnAuthenticator: an authenticator
// that does not return (it ignores its context) holds a WebSocket
// connection's token check; Stop cancels the authenticator's context and
// returns when its own context ends, saying what it waited for.
func TestStopDoesNotWaitPastItsContextForAnAuthenticator(t *testing.T) {
	t.Parallel()
	started := make(chan context.Context, 1)
	gate := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(gate) }) }
	defer release()
	n, err := netron.New(netron.Config{TaskTimeout: time.Minute}, nil, netron.WithAuthenticator(func(ctx context.Context, _ *netron.Peer, _ any) (any, error) {
		started <- ctx
		<-gate
		return nil, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	go func() {
		if p, err := netron.Dial(dctx, addr+"?token=t"); err == nil {
			p.Close()
		}
	}()
	var actx context.Context
	select {
	case actx = <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the authenticator was not called within 5 s")
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		stopped <- n.Stop(ctx)
	}()
	select {
	case err := <-stopped:
		if err == nil || !strings.Contains(err.Error(), "1 connections still authenticating") {
			t.Errorf("Stop with an authenticator still running returned %v; want it to say so", err)
		}
	case <-time.After(3 * time.Second):
		release()
		<-stopped
		t.Fatal("Stop(ctx of 200ms) did not return within 3 s: it waits for the authenticator")
	}
	if actx.Err() == nil {
		t.Error("the authenticator's context was not cancelled by Stop")
	}
}
