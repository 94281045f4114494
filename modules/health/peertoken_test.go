package health_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/health"
	"github.com/titanframework/titan/modules/netron"
)

// A dialled peer that reconnects is named in the /readyz report, in its
// RemoteAddr and in the log of its attempts without the token of the
// address it was dialled at (ws://host/?token=…), which the transport
// keeps out of its own errors and addresses.
func TestReconnectingPeerIsNamedWithoutItsToken(t *testing.T) {
	srv, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := srv.Listen(ctx, "ws://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}

	var logs testsrv.LogBuffer
	n, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Min: time.Millisecond, Max: 5 * time.Millisecond}},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNetron(t, n) })
	p, err := n.Dial(ctx, strings.TrimSuffix(addr, "/")+"/?token=TOKEN-S3CRET")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	stopNetron(t, srv)
	for p.Connected() || !strings.Contains(logs.String(), "reconnect failed") {
		if ctx.Err() != nil {
			t.Fatalf("the peer did not start reconnecting; log:\n%s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if a := p.RemoteAddr(); strings.Contains(a, "S3CRET") || !strings.Contains(a, "127.0.0.1") {
		t.Errorf("RemoteAddr while reconnecting = %q; want the address without its token", a)
	}
	c, err := health.NewChecker(2*time.Second, health.Peers(n))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Ready(ctx).Checks["peers"]
	if r.Healthy || strings.Contains(r.Error, "S3CRET") || !strings.Contains(r.Error, "127.0.0.1") {
		t.Errorf("peers check = %+v; want it to name the reconnecting peer without its token", r)
	}
	if strings.Contains(logs.String(), "S3CRET") {
		t.Errorf("the log shows the token:\n%s", logs.String())
	}
}
