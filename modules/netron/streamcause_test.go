package netron_test

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// waiter streams one item, then waits for its context to end and reports
// why it ended.
type waiter struct{ cause chan error }

func (w waiter) Wait(ctx context.Context) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		if !yield(1, nil) {
			w.cause <- context.Cause(ctx)
			return
		}
		<-ctx.Done()
		w.cause <- context.Cause(ctx)
	}
}

// When the connection of a stream ends, the stream's context ends with
// the connection's end as its cause (unavailable), not as if its reader
// had cancelled it (canceled): what the handler and its interceptors are
// told (see StreamingHandlerFunc).
func TestStreamContextCauseOnConnectionEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	w := waiter{cause: make(chan error, 1)}
	if err := n.Register("waiter", "1.0.0", w); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.OpenStream(ctx, "waiter@1.0.0", "wait")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	select {
	case cause := <-w.cause:
		if netron.CodeOf(cause) != netron.CodeUnavailable {
			t.Fatalf("the stream's context ended with %v (%s), want the connection's end (unavailable)", cause, netron.CodeOf(cause))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream's context did not end with its connection")
	}
}
