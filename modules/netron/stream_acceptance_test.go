package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Criterion 3: cancelling a stream stops its producer: the server's
// iterator sees yield return false or its context end, within a bound,
// even when it is waiting between items.
func TestAcceptanceStreamCancelStopsProducer(t *testing.T) {
	const bound = 500 * time.Millisecond
	for _, scheme := range schemes {
		for _, how := range []string{"Close", "context"} {
			t.Run(scheme+"/"+how, func(t *testing.T) {
				t.Parallel()
				s, prod := netronServer(t, scheme, netron.Config{}, nil)
				p := dial(t, s.addr)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				sctx, stop := context.WithCancel(ctx)
				defer stop()
				// One item every 100 ms: the producer spends its time waiting,
				// not in yield, and has plenty of credit left.
				st, err := p.OpenStream(sctx, "producer@1.0.0", "ticks", 100)
				if err != nil {
					t.Fatal(err)
				}
				for i := range 3 {
					var v int
					if err := st.Recv(&v); err != nil || v != i {
						t.Fatalf("item %d = %d, %v", i, v, err)
					}
				}
				start := time.Now()
				if how == "Close" {
					st.Close()
				} else {
					stop()
				}
				select {
				case why := <-prod.exits:
					t.Logf("producer stopped after %v: %s", time.Since(start), why)
				case <-time.After(bound):
					t.Fatalf("producer still running %v after the stream was cancelled", bound)
				}
				if err := st.Recv(new(int)); err == nil {
					t.Fatal("Recv after cancel succeeded")
				}
				// The connection is still fine.
				if v, err := netron.CallUnary[int](ctx, p, "calculator@1.0.0", "add", 1, 1); err != nil || v != 2 {
					t.Fatalf("add after cancel = %v, %v", v, err)
				}
			})
		}
	}
}

// A producer blocked on credit (the reader stopped reading) is stopped too.
func TestAcceptanceStreamCancelStopsBlockedProducer(t *testing.T) {
	s, prod := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{StreamWindow: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := p.OpenStream(ctx, "producer@1.0.0", "items", 1_000_000, 8)
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := st.Recv(&v); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for prod.yielded.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // let the producer fill the window
	}
	st.Close()
	select {
	case why := <-prod.exits:
		t.Logf("blocked producer stopped: %s after %d items", why, prod.yielded.Load())
	case <-time.After(500 * time.Millisecond):
		t.Fatalf("producer blocked on credit still running 500ms after cancel (%d items)", prod.yielded.Load())
	}
}

// Cancelled streams leave nothing behind on the reading side: items in
// flight when the reader cancels must not re-create the stream. With a cap
// of 4 streams per connection, 50 open-read-cancel rounds all succeed.
func TestAcceptanceCancelledStreamsDoNotLeak(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	p := dialWith(t, s.addr, netron.Config{MaxStreamsPerPeer: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for round := range 50 {
		st, err := p.OpenStream(ctx, "producer@1.0.0", "items", 1_000_000, 512)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var v string
		if err := st.Recv(&v); err != nil {
			t.Fatalf("round %d: first item: %v", round, err)
		}
		st.Close()
	}
}

// TestUnclaimedStreamIsReaped: a stream whose caller never reads it (here:
// a plain Call on a stream method, which only sees the reference) is
// dropped after the idle timeout, and its producer stopped.
func TestUnclaimedStreamIsReaped(t *testing.T) {
	t.Parallel()
	// The server waits for credit far longer than the client keeps an
	// unclaimed stream, so only the client's reaper can end it.
	n, err := netron.New(netron.Config{StreamIdleTimeout: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	client, err := netron.New(netron.Config{StreamIdleTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	p, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Call(context.Background(), "calculator@1.0.0", "count", 1_000_000); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for netron.OpenRecvStreams(p) == 0 { // the first items create it
		if time.Now().After(deadline) {
			t.Fatal("no stream items arrived within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for netron.OpenRecvStreams(p) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d unclaimed streams still held after 5s", netron.OpenRecvStreams(p))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
