package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// openIdleStream starts an app whose streams stop after 200 ms of an idle
// reader (a window of 2 items), and opens a stream of 1000 items it does
// not read.
func openIdleStream(t *testing.T) (*testApp, *netron.Peer, *netron.Stream) {
	t.Helper()
	ta := startApp(t, "tcp://127.0.0.1:0", []string{"netron.streamWindow=2", "netron.streamIdleTimeout=200ms"})
	p := dial(t, ta.addrs["tcp"])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	idle, err := p.OpenStream(ctx, "calc@1.0.0", "count", 1000)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idle.Close() })
	return ta, p, idle
}

// TestStreamStoppedForAnIdleReader: a stream the engine stops because its
// reader stayed idle is counted with deadline_exceeded, and one its
// reader closes with canceled. Before, both were canceled.
func TestStreamStoppedForAnIdleReader(t *testing.T) {
	ta, p, _ := openIdleStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	count := func(code string) float64 {
		got, _ := sample(scrape(t, ta.admin+"/metrics"), "rpc_server_calls_finished_total", labels("count", "tcp", code))
		return got
	}
	eventually(t, 5*time.Second, "a finished count call", func() bool { return count("deadline_exceeded")+count("canceled") > 0 })
	if got := count("deadline_exceeded"); got != 1 {
		t.Errorf("a stream stopped for its idle reader: %v with deadline_exceeded, %v with canceled; want 1, 0", got, count("canceled"))
	}
	closed, err := p.OpenStream(ctx, "calc@1.0.0", "count", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := closed.Next(); err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	eventually(t, 5*time.Second, "a stream closed by its reader counted canceled", func() bool { return count("canceled") == 1 })
}

// TestItemsSentAreTheItemsSent: rpc_server_stream_items_sent_total counts
// the items the engine sent, not the one it could not send when it
// stopped the stream (its reader stayed idle).
func TestItemsSentAreTheItemsSent(t *testing.T) {
	ta, _, idle := openIdleStream(t)
	finished := func() float64 {
		got, _ := sample(scrape(t, ta.admin+"/metrics"), "rpc_server_calls_finished_total", labels("count", "tcp", "deadline_exceeded"))
		return got
	}
	eventually(t, 5*time.Second, "the idle stream stopped", func() bool { return finished() == 1 })
	received := 0
	for {
		if _, err := idle.Next(); err != nil {
			break
		}
		received++
	}
	sent, _ := sample(scrape(t, ta.admin+"/metrics"), "rpc_server_stream_items_sent_total", labels("count", "tcp"))
	if sent != float64(received) {
		t.Errorf("rpc_server_stream_items_sent_total = %v, but the reader received %d items", sent, received)
	}
}
