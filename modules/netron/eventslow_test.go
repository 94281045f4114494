package netron_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A subscriber that stops reading costs neither the emitter nor the other
// subscribers anything: once its send queue is full, the events for it are
// dropped (with one log record for the connection) instead of Emit waiting
// up to WriteStallTimeout for room; a subscriber that reads keeps getting
// every event, in order, as it is emitted.
func TestEmitDoesNotWaitForASubscriberThatDoesNotRead(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	// A stall timeout far longer than the test: an Emit that waits for the
	// slow subscriber waits for the whole test.
	s, _ := netronServer(t, "tcp", netron.Config{MaxQueuedBytesPerPeer: 1 << 20, WriteStallTimeout: time.Hour}, log)
	ctx := context.Background()

	good := dialWith(t, s.addr, netron.Config{MaxQueuedEventsPerPeer: 1 << 20, MaxQueuedEventBytesPerPeer: 1 << 30})
	var mu sync.Mutex
	var got []int
	arrived := make(chan struct{}, 1)
	unsub, err := good.Subscribe(ctx, "tick", func(_ context.Context, e netron.Event) {
		var m struct {
			I int `json:"i"`
		}
		if err := e.Decode(&m); err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		got = append(got, m.I)
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()

	// The slow subscriber: a raw connection with a small receive buffer
	// that subscribes to the same topic, reads the answer, then nothing.
	slow := dialRaw(t, s.addr)
	slow.nc.(*net.TCPConn).SetReadBuffer(4 << 10)
	slow.handshake("slow")
	slow.write(packetFrame(t, &protocol.Packet{ID: 1, Type: protocol.TypeTask, Impulse: true,
		Data: []any{netron.TaskSubscribe, "tick"}})[4:])
	slow.read() // the subscription's answer

	pad := strings.Repeat("p", 4<<10)
	dropped := []string{"send queue is full", "peer=tcp://" + slow.nc.LocalAddr().String()}

	// Each event is emitted once the one before has reached the subscriber
	// that reads, so that only the slow subscriber falls behind: its queue
	// and what the kernel holds for it fill, then its events are dropped.
	// The emits run apart, so that an Emit that waits for room fails the
	// test instead of hanging it.
	after := -1 // the events emitted since the first was dropped
	for i := 0; after < 100; i++ {
		if i == 16<<10 { // 64 MiB: more than the queue and the kernel hold
			rec.mu.Lock()
			t.Logf("log:\n%s", strings.Join(rec.msgs[:min(len(rec.msgs), 20)], "\n"))
			rec.mu.Unlock()
			t.Fatal("64 MiB of events were queued for a subscriber that does not read, and none dropped")
		}
		done := make(chan error, 1)
		go func() { done <- s.n.Emit(ctx, "tick", map[string]any{"i": i, "pad": pad}) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("emit %d: %v", i, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("Emit %d waited 30 s for a subscriber that does not read", i)
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("event %d did not reach the subscriber that reads in 30 s (it got %d)", i, n)
			}
			select {
			case <-arrived:
			case <-time.After(100 * time.Millisecond):
			}
		}
		if after >= 0 || rec.count(dropped...) > 0 {
			after++
		}
	}
	mu.Lock()
	for j, v := range got {
		if v != j {
			mu.Unlock()
			t.Fatalf("the subscriber that reads got event %d as the %dth: order not kept", v, j)
		}
	}
	mu.Unlock()
	if n := rec.count(dropped[0]); n != 1 {
		t.Errorf("%d log records of dropped events, want 1 (for the slow subscriber)", n)
	}
	// Every drop is counted, not only the one logged: one per Emit that
	// did not reach every peer (only the slow one's queue fills).
	var drops uint64
	for _, tr := range s.n.Traffic() {
		drops += tr.EventsDropped
	}
	if want := rec.count("event not delivered to every peer"); drops == 0 || drops != uint64(want) {
		t.Errorf("Traffic counts %d events dropped; %d emits did not reach the slow subscriber", drops, want)
	}
}
