package netron

import (
	"context"
	"testing"
)

// serveInternal starts a Netron (default configuration) serving impls
// (name -> implementation, version 1.0.0) at addr, stopped with the test,
// and returns it with the address it listens at.
func serveInternal(t *testing.T, addr string, impls map[string]any) (*Netron, string) {
	t.Helper()
	n, err := New(Config{}, nil)
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
