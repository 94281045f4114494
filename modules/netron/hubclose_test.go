package netron_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// holdingDials dials as its transport does the first time, and holds
// every later dial until its context ends, counting those still held.
type holdingDials struct {
	transport.Transport
	dials   atomic.Int32
	held    atomic.Int32
	holding chan struct{} // receives when a dial is held
}

func (h *holdingDials) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	if h.dials.Add(1) == 1 {
		return h.Transport.Dial(ctx, u, o)
	}
	h.held.Add(1)
	defer h.held.Add(-1)
	h.holding <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// Closing a pool ends the dial of the connection it was opening in the
// background for a busy instance: no dial outlives the pool (one that
// answered later would open a connection nobody closes until it notices).
func TestPoolCloseEndsGrowDial(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := transporttest.Renamed(tcp.New(), "holdtcp")
	gate := &Turnstile{open: make(chan struct{})}
	_, addr := serveServices(t, "holdtcp://127.0.0.1:0", map[string]any{"gate": gate}, netron.WithCustomTransports(tr))
	hold := &holdingDials{Transport: tr, holding: make(chan struct{}, 1)}
	client, err := netron.New(netron.Config{RequestTimeout: time.Minute, Pool: netron.PoolConfig{MaxConns: 2, BusyAt: 1, IdleTimeout: time.Minute}},
		nil, netron.WithCustomTransports(hold))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	pl, err := client.NewPool("gate", netron.StaticResolver{"gate": addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := pl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := pl.Peer()
	if err != nil {
		t.Fatal(err)
	}
	called := make(chan error, 1)
	go func() {
		_, err := pl.Call(ctx, "wait")
		called <- err
	}()
	for p.InFlight() == 0 { // the call is sent: the connection is busy
		select {
		case err := <-called:
			t.Fatalf("the call ended before the gate opened: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	if _, err := pl.Peer(); err != nil { // opens another connection
		t.Fatal(err)
	}
	select {
	case <-hold.holding:
	case <-ctx.Done():
		t.Fatal("the busy connection did not have another dialled")
	}
	close(gate.open)
	if err := <-called; err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if n := hold.held.Load(); n != 0 {
		t.Fatalf("Close returned with %d dial(s) of the pool still running", n)
	}
}
