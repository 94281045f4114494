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

// A stream whose read fails with the idle error, and which its caller does
// not close, gives back its place in the connection's table of streams
// (maxStreamsPerPeer) and tells its producer to stop.
func TestStreamEndedByIdleErrorFreesItsPlace(t *testing.T) {
	ctx := context.Background()
	w := watched{stopped: make(chan struct{})}
	_, addr := serveInternal(t, "mem://", map[string]any{"watched": w})
	client, err := New(Config{StreamIdleTimeout: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	p, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.OpenStream(ctx, "watched@1.0.0", "stall")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); CodeOf(err) != CodeDeadlineExceeded {
		t.Fatalf("a read past the idle timeout: %v, want deadline_exceeded", err)
	}
	if k := OpenRecvStreams(p); k != 0 {
		t.Fatalf("the connection still holds %d received streams after the stream ended with an error", k)
	}
	select {
	case <-w.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the producer was not told to stop within 5s of the stream's error")
	}
}

// The same for a read that fails with its context's error: the stream's
// context may be the caller's, which the end of the read does not end.
func TestStreamEndedByContextErrorFreesItsPlace(t *testing.T) {
	ctx := context.Background()
	w := watched{stopped: make(chan struct{})}
	_, addr := serveInternal(t, "mem://", map[string]any{"watched": w})
	client, err := New(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	p, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.OpenStream(ctx, "watched@1.0.0", "stall")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	// The read's own context ends, not the stream's: s.ctx is replaced
	// by one that is already over, as a deadline passing mid-read would be
	// seen by Take.
	rctx, cancel := context.WithCancel(ctx)
	cancel()
	s.ctx = rctx
	if _, err := s.Next(); CodeOf(err) != CodeCanceled {
		t.Fatalf("a read with its context over: %v, want canceled", err)
	}
	if k := OpenRecvStreams(p); k != 0 {
		t.Fatalf("the connection still holds %d received streams after the stream ended with an error", k)
	}
	select {
	case <-w.stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the producer was not told to stop within 5s of the stream's error")
	}
}
