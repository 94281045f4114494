package nats_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

type message struct {
	Text string `json:"text"`
}

// bridged starts a Netron with an events bridge under prefix.
func bridged(t *testing.T, addr, prefix string) *netron.Netron {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natstransport.NewBridge(n, nc, natstransport.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		nc.Close()
		n.Stop(context.Background())
	})
	return n
}

func collect(t *testing.T, n *netron.Netron, pattern string) chan netron.Event {
	t.Helper()
	ch := make(chan netron.Event, 16)
	unsub, err := n.Subscribe(context.Background(), pattern, func(_ context.Context, e netron.Event) { ch <- e })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return ch
}

func expectEvents(t *testing.T, ch chan netron.Event, want int) []netron.Event {
	t.Helper()
	var got []netron.Event
	timeout := time.After(3 * time.Second)
	for len(got) < want {
		select {
		case e := <-ch:
			got = append(got, e)
		case <-timeout:
			t.Fatalf("got %d events, want %d", len(got), want)
		}
	}
	select {
	case e := <-ch:
		t.Fatalf("an extra event: %+v", e)
	case <-time.After(200 * time.Millisecond):
	}
	return got
}

func TestBridgeDeliversEveryEventOnceInEveryProcess(t *testing.T) {
	t.Parallel()
	addr := testsrv.NATS(t)
	prefix := "t" + strings.ToLower(nuid.Next())
	a, b := bridged(t, addr, prefix), bridged(t, addr, prefix)
	gotA, gotB := collect(t, a, "chat.*"), collect(t, b, "chat.>")
	ctx := context.Background()

	if err := a.Emit(ctx, "chat.message", message{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, gotA, 1)
	ev := expectEvents(t, gotB, 1)[0]
	var m message
	if err := ev.Decode(&m); err != nil || m.Text != "hi" || ev.Topic != "chat.message" {
		t.Fatalf("B got %+v (%v)", ev, err)
	}

	if err := b.Emit(ctx, "chat.room.joined", 42); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, gotB, 1)
	expectEvents(t, gotA, 0) // "chat.*" does not match three tokens

	// A client dialled over NATS subscribes to cluster events.
	p := dial(t, testsrv.NATS(t)+"?prefix="+prefix, netron.Config{})
	got := make(chan netron.Event, 4)
	unsub, err := p.Subscribe(ctx, "chat.message", func(_ context.Context, e netron.Event) { got <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	if err := b.Emit(ctx, "chat.message", message{Text: "to the peer"}); err != nil {
		t.Fatal(err)
	}
	ev = expectEvents(t, got, 1)[0]
	if err := ev.Decode(&m); err != nil || m.Text != "to the peer" {
		t.Fatalf("peer got %+v (%v)", ev, err)
	}
	expectEvents(t, gotA, 1)
	expectEvents(t, gotB, 1)
}

// A publisher flooding the events subjects with undecodable payloads
// gets one warning per 10 s logged, not one per event.
func TestUndecodableEventsAreLoggedRateLimited(t *testing.T) {
	t.Parallel()
	addr := testsrv.NATS(t)
	prefix := "t" + strings.ToLower(nuid.Next())
	var buf testsrv.LogBuffer
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	bc, err := nats.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	b, err := natstransport.NewBridge(n, bc, natstransport.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nc, err := nats.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const events = 500
	for range events {
		if err := nc.Publish(prefix+".events.junk", []byte{0xc1}); err != nil { // 0xc1 is never used in MessagePack
			t.Fatal(err)
		}
	}
	// A decodable event after them: once it arrives, the junk has been seen.
	got := collect(t, n, "done")
	payload, _ := protocol.Marshal("ok")
	if err := nc.Publish(prefix+".events.done", payload); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, got, 1)
	if c := strings.Count(buf.String(), "dropped an undecodable event"); c != 1 {
		t.Fatalf("%d log records for %d undecodable events, want 1", c, events)
	}
}

// secretGate lets every peer subscribe, and sends no peer the event
// "secret", as the security module's security.events would.
type secretGate struct{}

func (secretGate) Identify(ctx context.Context, _ netron.Credentials) (context.Context, error) {
	return ctx, nil
}
func (secretGate) Visible(context.Context, *netron.MethodSpec) bool { return true }
func (secretGate) MaySubscribe(context.Context, string) error       { return nil }
func (secretGate) MayReceive(_ *netron.Peer, topic string) bool     { return topic != "secret" }

var _ netron.EventReceiver = secretGate{}

// An event another process publishes through the bridge reaches a
// connection subscribed to it only if the Netron's EventReceiver lets it,
// as an event emitted locally does: the bridge emits it through the
// engine.
func TestBridgedEventsKeepEventAccess(t *testing.T) {
	t.Parallel()
	addr := testsrv.NATS(t)
	prefix := "t" + strings.ToLower(nuid.Next())
	n, err := netron.New(netron.Config{}, nil, netron.WithAccess(secretGate{}))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	b, err := natstransport.NewBridge(n, nc, natstransport.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tcp, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		nc.Close()
		n.Stop(context.Background())
	})
	p := dial(t, tcp, netron.Config{})
	got := make(chan string, 4)
	for _, topic := range []string{"secret", "open"} {
		if _, err := p.Subscribe(ctx, topic, func(_ context.Context, e netron.Event) { got <- e.Topic }); err != nil {
			t.Fatal(err)
		}
	}
	other := bridged(t, addr, prefix)
	// In order: the secret event would arrive before the open one.
	for _, topic := range []string{"secret", "open"} {
		if err := other.Emit(ctx, topic, message{Text: topic}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case topic := <-got:
		if topic != "open" {
			t.Fatalf("the peer received %q through the bridge, which its EventReceiver refuses", topic)
		}
	case <-ctx.Done():
		t.Fatal("the peer received no event")
	}
}
