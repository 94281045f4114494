package netron_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// An event over the frame limit (netron.maxFrameSize) is refused by Emit,
// with an error naming the topic and the limit, as a request or an answer
// over it is: it is not sent to the subscribed peer, whose connection
// goes on serving calls and smaller events.
func TestEmitOverTheFrameLimitIsRefused(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	cfg := netron.Config{MaxFrameSize: limit, Reconnect: netron.ReconnectConfig{Disabled: true}}
	s, _ := netronServer(t, "tcp", cfg, nil)
	p := dialWith(t, s.addr, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan int, 2)
	if _, err := p.Subscribe(ctx, "big", func(_ context.Context, e netron.Event) {
		var v string
		_ = e.Decode(&v)
		got <- len(v)
	}); err != nil {
		t.Fatal(err)
	}
	err := s.n.Emit(ctx, "big", strings.Repeat("x", limit+1))
	if err == nil || !strings.Contains(err.Error(), `"big"`) || !strings.Contains(err.Error(), "65536") || netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Errorf("Emit of an event over the frame limit: %v; want a resource_exhausted error naming the topic and the limit", err)
	}
	if err := s.n.Emit(ctx, "big", "small"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-got:
		if n != len("small") {
			t.Fatalf("the peer received an event of %d bytes first; want only the small one", n)
		}
	case <-ctx.Done():
		t.Fatalf("the small event after the refused one did not arrive (peer connected: %v)", p.Connected())
	}
	if v, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf("call after the refused event: %v, %v", v, err)
	}
}

// Events are compressed between Go peers as requests and answers are.
func TestEventsCompressedBetweenGoPeers(t *testing.T) {
	t.Parallel()
	n := serveBlob(t, compressed("s2"))
	px := startCountingProxy(t, n.Addrs()[0])
	peer := dialWith(t, px.addr(), compressed("s2"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text := compressibleText(1 << 20)
	got := make(chan string, 1)
	if _, err := peer.Subscribe(ctx, "text", func(_ context.Context, e netron.Event) {
		var v string
		_ = e.Decode(&v)
		got <- v
	}); err != nil {
		t.Fatal(err)
	}
	down0 := px.down.Load()
	if err := n.Emit(ctx, "text", text); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if v != text {
			t.Fatal("the event changed in transit")
		}
	case <-ctx.Done():
		t.Fatal("the event did not arrive")
	}
	if down := px.down.Load() - down0; down >= int64(len(text))/4 {
		t.Errorf("a 1 MiB compressible event took %d bytes on the socket; want it compressed (under 256 KiB)", down)
	}
}
