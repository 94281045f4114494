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

// Closing a pool, or stopping its Netron, ends the dial of the
// connection it was opening in the background for a busy instance: no
// dial outlives the pool (one that answered later would open a connection
// nobody closes until it notices).
func TestPoolCloseEndsGrowDial(t *testing.T) {
	t.Parallel()
	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		testGrowDialEnds(t, func(_ *netron.Netron, pl *netron.Pool) {
			if err := pl.Close(); err != nil {
				t.Fatal(err)
			}
		}, 0)
	})
	t.Run("Stop", func(t *testing.T) {
		t.Parallel()
		testGrowDialEnds(t, func(n *netron.Netron, _ *netron.Pool) {
			if err := n.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 10*time.Second) // Stop does not wait for it; the request timeout is a minute
	})
}

// testGrowDialEnds has a pool dial another connection to a busy instance,
// holds that dial, ends the pool with end, and checks that the dial ends
// within within (0: by the time end returns).
func testGrowDialEnds(t *testing.T, end func(*netron.Netron, *netron.Pool), within time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr := transporttest.Renamed(tcp.New(), "holdtcp")
	gate := &Turnstile{open: make(chan struct{})}
	_, addr := netron.ServeForTest(t, netron.Config{}, "holdtcp://127.0.0.1:0", map[string]any{"gate": gate}, netron.WithCustomTransports(tr))
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
	t.Cleanup(func() { _ = pl.Close() }) // a stopped Netron's pools are closed by their owner
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
	end(client, pl)
	for deadline := time.Now().Add(within); hold.held.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d dial(s) of the pool still running %v after it ended", hold.held.Load(), within)
		}
		time.Sleep(time.Millisecond)
	}
}
