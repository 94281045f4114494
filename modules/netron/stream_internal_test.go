package netron

import (
	"context"
	"errors"
	"io"
	"iter"
	"testing"
	"time"
)

type counter struct{}

func (counter) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// A stream read to its end releases the context it derived from the
// caller's: a caller that reads streams to io.EOF under a long-lived
// context (without Close, which only an early stop needs) must not leave
// a child context and the Stream in that context for each stream.
func TestStreamReadToEndReleasesItsContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, addr := ServeForTest(t, Config{}, "mem://", map[string]any{"counter": counter{}})
	p, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	long, cancel := context.WithCancel(ctx) // the caller's, long-lived
	defer cancel()
	s, err := p.OpenStream(long, "counter@1.0.0", "count", 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		_, err := s.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || i > 3 {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if s.ctx.Err() == nil {
		t.Fatal("the stream ended and its context is still registered with the caller's")
	}
	if _, err := s.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the end: %v, want io.EOF", err)
	}
}

// A read after a stream ended with an error fails with that error again:
// the end releases the stream's context, which must not turn the next
// read's answer into canceled.
func TestStreamReadAfterErrorRepeatsIt(t *testing.T) {
	_, s, _ := openStalled(t, Config{StreamIdleTimeout: 100 * time.Millisecond})
	_, first := s.Next()
	if CodeOf(first) != CodeDeadlineExceeded {
		t.Fatalf("a read past the idle timeout: %v, want deadline_exceeded", first)
	}
	if _, again := s.Next(); again != first {
		t.Fatalf("the read after it: %v, want the same %v", again, first)
	}
}
