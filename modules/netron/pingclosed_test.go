package netron_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A ping on a closed peer fails as a call on it does: the peer is closed
// and the ping was not sent (ErrNotRun), not "connection lost".
func TestPingClosedPeer(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ping(ctx); err != nil {
		t.Fatalf("ping on a live peer: %v", err)
	}
	_ = p.Close()
	_, callErr := p.Call(ctx, "calculator@1.0.0", "add", 1, 2)
	_, err = p.Ping(ctx)
	if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, netron.ErrNotRun) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("ping on a closed peer: %v; want unavailable, not run, saying the connection is closed (as a call: %v)", err, callErr)
	}
}
