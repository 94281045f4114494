package netron

import (
	"context"
	"iter"
	"testing"
	"time"
)

// watched yields one item, then nothing until its context ends, which it
// reports on stopped.
type watched struct{ stopped chan struct{} }

func (w watched) Stall(ctx context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if yield(1, nil) {
			<-ctx.Done()
			close(w.stopped)
		}
	}
}

// openStalled serves a watched over mem://, dials it with a Netron of cfg
// and opens its stream, read past its one item.
func openStalled(t *testing.T, cfg Config) (*Peer, *Stream, watched) {
	t.Helper()
	ctx := context.Background()
	w := watched{stopped: make(chan struct{})}
	_, addr := ServeForTest(t, Config{}, "mem://", map[string]any{"watched": w})
	p := DialForTest(t, addr, cfg)
	s, err := p.OpenStream(ctx, "watched@1.0.0", "stall")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	return p, s, w
}

// freed fails t unless p holds no received stream and w's producer was
// told to stop.
func freed(t *testing.T, p *Peer, w watched) {
	t.Helper()
	if k := OpenRecvStreams(p); k != 0 {
		t.Fatalf("the connection still holds %d received streams after the stream ended with an error", k)
	}
	select {
	case <-w.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the producer was not told to stop within 5s of the stream's error")
	}
}

// A stream whose read fails with the idle error, and which its caller does
// not close, gives back its place in the connection's table of streams
// (maxStreamsPerPeer) and tells its producer to stop.
func TestStreamEndedByIdleErrorFreesItsPlace(t *testing.T) {
	p, s, w := openStalled(t, Config{StreamIdleTimeout: 100 * time.Millisecond})
	if _, err := s.Next(); CodeOf(err) != CodeDeadlineExceeded {
		t.Fatalf("a read past the idle timeout: %v, want deadline_exceeded", err)
	}
	freed(t, p, w)
}

// The same for a read that fails with its context's error: the stream's
// context may be the caller's, which the end of the read does not end.
func TestStreamEndedByContextErrorFreesItsPlace(t *testing.T) {
	p, s, w := openStalled(t, Config{})
	// The read's own context ends, not the stream's: s.ctx is replaced
	// by one that is already over, as a deadline passing mid-read would be
	// seen by Take.
	rctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.ctx = rctx
	if _, err := s.Next(); CodeOf(err) != CodeCanceled {
		t.Fatalf("a read with its context over: %v, want canceled", err)
	}
	freed(t, p, w)
}
