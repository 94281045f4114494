package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A pool of a Netron that does not reconnect (Config.Reconnect.Disabled)
// drops the connection of an instance that went away and dials its
// address again: once the instance is back, calls through the pool reach
// it.
func TestPoolRedialsInstanceWhoseConnectionClosedForGood(t *testing.T) {
	ctx := context.Background()
	first, addr := serveCalc(t, netron.Config{}, "tcp://127.0.0.1:0")
	client, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	pl, err := client.NewPool("calculator@^1", nil, netron.WithAddress(addr))
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pl.Close()
	if _, err := pl.Call(ctx, "add", 2, 3); err != nil {
		t.Fatal(err)
	}
	p, err := pl.Peer()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done(): // closed for good: it does not reconnect
	case <-time.After(5 * time.Second):
		t.Fatal("the connection to the stopped instance did not close within 5s")
	}
	serveCalc(t, netron.Config{}, addr) // the instance is back
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := pl.Call(ctx, "add", 2, 3)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls through the pool still fail 10s after the instance came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
