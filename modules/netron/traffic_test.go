package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

func trafficOf(n *netron.Netron, transport string) netron.Traffic {
	for _, t := range n.Traffic() {
		if t.Transport == transport {
			return t
		}
	}
	return netron.Traffic{}
}

// Traffic counts the messages and bytes of every connection, live and
// ended, on both sides; compressed messages count at their size on the
// wire.
func TestTraffic(t *testing.T) {
	t.Parallel()
	n := serveBlob(t, compressed("s2"))
	client, err := netron.New(compressed("s2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	peer, err := client.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := netron.CallUnary[string](ctx, peer, "blob@1.0.0", "text", 100<<10); err != nil {
			t.Fatal(err)
		}
	}
	// A message counts as sent once its write has returned, which the
	// writer records after the answer may already be back: the handshake
	// and 10 calls are counted within a moment, not necessarily at once.
	waitFor(t, func() bool { return trafficOf(client, "tcp").MessagesOut >= 11 })
	live := trafficOf(client, "tcp")
	// The handshake id, 10 answers (and maybe the definition's); each
	// 100 KiB answer crossed compressed, so far under 1 MiB in all.
	if live.MessagesIn < 11 || live.BytesIn > 200<<10 {
		t.Errorf("client, live: %+v; want 11 messages or more, in under 200 KiB", live)
	}
	peer.Close()
	waitFor(t, func() bool { return trafficOf(n, "tcp").MessagesIn >= live.MessagesOut && len(n.Peers()) == 0 })
	ended := trafficOf(n, "tcp")
	if ended.MessagesIn != live.MessagesOut || ended.BytesIn != live.BytesOut {
		t.Errorf("server after the connection ended: %+v; want what the client sent: %d messages, %d bytes",
			ended, live.MessagesOut, live.BytesOut)
	}
	after := trafficOf(client, "tcp")
	if after.MessagesIn < live.MessagesIn || after.BytesIn < live.BytesIn {
		t.Errorf("the client's counts went down when its connection ended: %+v, then %+v", live, after)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
