package netron_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Turnstile holds its calls until it opens.
type Turnstile struct {
	open chan struct{}
}

func (g *Turnstile) Wait(ctx context.Context) (bool, error) {
	select {
	case <-g.open:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// The pools of a Netron share their connections to an address, open more
// while those are busy (up to Config.Pool.MaxConns), close the added ones
// once idle, and close the last when no pool uses it.
func TestPoolConnections(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	server, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop(context.Background())
	gate := &Turnstile{open: make(chan struct{})}
	if err := server.Register("gate", "1.0.0", gate); err != nil {
		t.Fatal(err)
	}
	if err := server.Register("named", "1.0.0", Instance{"x"}); err != nil {
		t.Fatal(err)
	}
	addr, err := server.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client, err := netron.New(netron.Config{Pool: netron.PoolConfig{MaxConns: 3, BusyAt: 2, IdleTimeout: 200 * time.Millisecond}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	resolver := netron.StaticResolver{"gate": addr, "named": addr}
	pool := func(target string) *netron.Pool {
		pl, err := client.NewPool(target, resolver)
		if err != nil {
			t.Fatal(err)
		}
		if err := pl.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return pl
	}
	accepted := func() int { return len(server.Peers()) }
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5s (the server has %d connections)", what, accepted())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	gates, named := pool("gate@^1"), pool("named@^1")
	defer named.Close()
	eventually("two pools share one connection", func() bool { return accepted() == 1 })

	// 12 calls held at once: every connection gets busy, so the pool grows
	// to MaxConns and no further.
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for range 12 {
		wg.Go(func() {
			_, err := gates.Call(ctx, "wait")
			errs <- err
		})
		time.Sleep(2 * time.Millisecond) // let a connection open before the next call
	}
	eventually("busy: three connections", func() bool { return accepted() == 3 })
	time.Sleep(100 * time.Millisecond)
	if n := accepted(); n != 3 {
		t.Fatalf("%d connections with MaxConns 3", n)
	}
	close(gate.open)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Idle, the added connections close; the first stays.
	eventually("idle: back to one connection", func() bool { return accepted() == 1 })
	if who, err := netron.CallUnary[string](ctx, mustPeer(t, named), "named@1.0.0", "who"); err != nil || who != "x" {
		t.Fatalf("the other pool after the shrink: %q, %v", who, err)
	}
	// The connection stays while a pool uses it.
	if err := gates.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepted(); n != 1 {
		t.Fatalf("%d connections after one of two pools closed, want the shared one", n)
	}
	if _, err := named.Call(ctx, "who"); err != nil {
		t.Fatal(err)
	}
	named.Close()
	eventually("no pool: no connection", func() bool { return accepted() == 0 })
}

func mustPeer(t *testing.T, pl *netron.Pool) *netron.Peer {
	t.Helper()
	p, err := pl.Peer()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A bad pool setting is refused naming the key.
func TestPoolConfigErrors(t *testing.T) {
	t.Parallel()
	for cfg, want := range map[netron.PoolConfig]string{
		{MaxConns: -1}:    "netron.pool.maxConns is -1",
		{BusyAt: -2}:      "netron.pool.busyAt is -2",
		{IdleTimeout: -1}: "netron.pool.idleTimeout is -1ns",
	} {
		if _, err := netron.New(netron.Config{Pool: cfg}, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: err = %v, want %q", cfg, err, want)
		}
	}
}
