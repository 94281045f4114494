package netron_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A call through a pool whose instances are all down fails naming the
// pool's target, each instance's address and why it is not connected,
// once; the error stays unavailable and not run (a retry may fail over).
func TestPoolNoInstanceConnectedSaysWhy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	server, addr := netron.ServeForTest(t, netron.Config{}, "tcp://127.0.0.1:0", map[string]any{"named": Instance{"a"}})
	for _, tc := range []struct {
		name  string
		cfg   netron.Config
		state string
	}{
		{"closed for good", netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}}, "connection closed"},
		{"reconnecting", netron.Config{Reconnect: netron.ReconnectConfig{Min: time.Hour, Max: time.Hour}}, "reconnecting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, err := netron.New(tc.cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Stop(context.Background())
			pool := startPool(t, client, "named@^1", nil, netron.WithAddress(addr))
			p, err := pool.Peer()
			if err != nil {
				t.Fatal(err)
			}
			for _, sp := range server.Peers() {
				_ = sp.Close()
			}
			for p.Connected() {
				select {
				case <-ctx.Done():
					t.Fatal("the connection did not end")
				case <-time.After(time.Millisecond):
				}
			}
			_, err = pool.Call(ctx, "who")
			if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, netron.ErrNotRun) {
				t.Fatalf("a call with no instance connected: %v, want unavailable, not run", err)
			}
			msg := err.Error()
			for _, want := range []string{"named@^1", addr, tc.state} {
				if strings.Count(msg, want) != 1 {
					t.Fatalf("a call with no instance connected: %q, want %q named once", msg, want)
				}
			}
		})
	}
}

// A call through a pool whose resolver no longer gives any instance (it
// had some) fails at once saying why: what the resolver last said.
func TestPoolNoInstanceLeftSaysWhy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs := serveEach(t, "named", func(name string) any { return Instance{name} }, "a")
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	w := watchOf{first: addrs, changes: make(chan []string)}
	pool := startPool(t, client, "named@^1", w)
	if _, err := pool.Call(ctx, "who"); err != nil {
		t.Fatal(err)
	}
	w.changes <- nil
	for len(pool.Addrs()) > 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the instance the resolver dropped stays in the pool")
		case <-time.After(time.Millisecond):
		}
	}
	_, err = pool.Call(ctx, "who")
	if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, netron.ErrNotRun) ||
		!strings.Contains(err.Error(), "named@^1: no instance is connected: the resolver gave no instance") {
		t.Fatalf("a call with no instance left: %v, want unavailable, not run, saying the resolver gave none", err)
	}
}
