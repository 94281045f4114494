package netron_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A stream the calling side refuses to read, because its connection
// already reads as many streams as it may, fails naming the method and
// the limit, and its producer is told to stop: it does not run on until
// the server's idle timeout.
func TestRefusedStreamStopsItsProducer(t *testing.T) {
	t.Parallel()
	s, prod := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{MaxStreamsPerPeer: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first, err := p.OpenStream(ctx, "producer@1.0.0", "ticks", 10)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	var v int
	if err := first.Recv(&v); err != nil {
		t.Fatal(err)
	}
	_, err = p.OpenStream(ctx, "producer@1.0.0", "ticks", 10)
	if netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("a second stream over a limit of 1: %v, want resource_exhausted", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "producer@1.0.0.ticks") || !strings.Contains(msg, "1") {
		t.Errorf("the refusal %q does not name the method and the limit", msg)
	}
	select {
	case why := <-prod.exits:
		t.Logf("the refused stream's producer ended: %s", why)
	case <-time.After(2 * time.Second):
		t.Fatal("the refused stream's producer still runs 2s after the refusal")
	}
}
