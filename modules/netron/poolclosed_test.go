package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A call through a pool after Close fails saying the pool is closed, not
// that no instance is connected (the instance is up).
func TestPoolCallAfterCloseSaysClosed(t *testing.T) {
	t.Parallel()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a")
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Stop(context.Background()) })
	pool := startPool(t, client, "named@^1", nil, netron.WithAddress(addrs[0]))
	if _, err := pool.Call(context.Background(), "who"); err != nil {
		t.Fatal(err)
	}
	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = pool.Call(context.Background(), "who")
	if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "named@^1: the pool is closed") {
		t.Fatalf("a call after Close: %v, want unavailable saying the pool is closed", err)
	}
	if _, err := pool.Peer(); err == nil || !strings.Contains(err.Error(), "the pool is closed") {
		t.Fatalf("Peer after Close: %v, want an error saying the pool is closed", err)
	}
}
