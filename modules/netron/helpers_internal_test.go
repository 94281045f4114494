package netron

import (
	"context"
	"testing"
	"time"
)

// ServeForTest starts a Netron with cfg and opts serving impls (name ->
// implementation, version 1.0.0) at addr, stopped with the test, and
// returns it with the address it listens at. Test-only (the package's own
// tests and netron_test's).
func ServeForTest(t *testing.T, cfg Config, addr string, impls map[string]any, opts ...Option) (*Netron, string) {
	t.Helper()
	n, err := New(cfg, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	for name, impl := range impls {
		if err := n.Register(name, "1.0.0", impl); err != nil {
			t.Fatal(err)
		}
	}
	bound, err := n.Listen(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return n, bound
}

// DialForTest dials addr, within 5 s, from a Netron of its own with cfg
// and opts; both are closed with the test. Test-only, as ServeForTest.
func DialForTest(t testing.TB, addr string, cfg Config, opts ...Option) *Peer {
	t.Helper()
	n, err := New(cfg, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := n.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}
