package discovery_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/memory"
	"github.com/titanframework/titan/modules/netron"
)

// calcAt is an instance of calc@1.0.0 at addr.
func calcAt(id, addr string) discovery.Instance {
	return discovery.Instance{ID: id, Service: "calc", Version: "1.0.0", Addrs: []string{addr}, Health: discovery.Healthy}
}

// serveCalc serves calc@1.0.0 answering name at addr until the test ends,
// and returns its address.
func serveCalc(t *testing.T, addr, name string) string {
	t.Helper()
	ctx := context.Background()
	s, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(ctx) })
	if err := s.Register("calc", "1.0.0", &Calc{name: name}); err != nil {
		t.Fatal(err)
	}
	a, err := s.Listen(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// startPool starts a pool of calc@^1 found in reg, from a Netron of its
// own; both stop with the test.
func startPool(t *testing.T, reg discovery.Registry) *netron.Pool {
	t.Helper()
	ctx := context.Background()
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Stop(ctx) })
	pool, err := client.NewPool("calc@^1", &discovery.Resolver{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// Two instances at one address (a process restarted on its port while its
// old entry lives) share one connection, which closes when the pool does:
// each update of the registry used to take it once more and give it back
// once, so it was never closed.
func TestPoolInstancesSharingAnAddress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	server, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop(ctx)
	if err := server.Register("calc", "1.0.0", &Calc{name: "x"}); err != nil {
		t.Fatal(err)
	}
	addr, err := server.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := memory.New(time.Minute)
	reg.Register(ctx, calcAt("old-process/calc@1.0.0", addr))
	reg.Register(ctx, calcAt("new-process/calc@1.0.0", addr))
	pool := startPool(t, reg)
	if got := pool.Addrs(); len(got) != 1 || got[0] != addr {
		t.Fatalf("pool of two instances at one address: %v, want that address once", got)
	}
	reg.Deregister(ctx, "old-process/calc@1.0.0")
	time.Sleep(200 * time.Millisecond) // the watch's update
	if got := pool.Addrs(); len(got) != 1 {
		t.Fatalf("after the old entry left: %v", got)
	}
	pool.Close()
	deadline := time.Now().Add(3 * time.Second)
	for len(server.Peers()) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(server.Peers()); n != 0 {
		t.Fatalf("the pool closed, but the server still has %d connection(s) from it", n)
	}
}

// An instance that could not be dialled when it appeared is dialled
// again until it answers: the registry's watch says nothing more about
// an instance that does not change.
func TestPoolRedialsAnInstanceThatWasDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := serveCalc(t, "tcp://127.0.0.1:0", "a")
	l, err := net.Listen("tcp", "127.0.0.1:0") // a port for b, not listening yet
	if err != nil {
		t.Fatal(err)
	}
	bAddr := "tcp://" + l.Addr().String()
	l.Close()
	reg := memory.New(time.Minute)
	reg.Register(ctx, calcAt("a", a))
	pool := startPool(t, reg)
	reg.Register(ctx, calcAt("b", bAddr)) // b's first dial fails
	time.Sleep(300 * time.Millisecond)
	if got := pool.Addrs(); len(got) != 1 {
		t.Fatalf("with b down: %v, want a only", got)
	}
	serveCalc(t, bAddr, "b")
	deadline := time.Now().Add(10 * time.Second)
	for len(pool.Addrs()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("10 s after b answers, the pool has %v; want a and b", pool.Addrs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
