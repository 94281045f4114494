package netron_test

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Ticker streams n numbers, then fails when asked to.
type Ticker struct{}

func (Ticker) Tick(_ context.Context, n int, fail bool) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
		if fail {
			yield(0, netron.Errorf(netron.CodeDataLoss, "the ticker broke"))
		}
	}
}

// streamEnds is a calling-side interceptor of the shape metrics take: it
// records how each stream it saw open ended, through Stream.OnEnd.
type streamEnds struct {
	mu   sync.Mutex
	ends []error
	done chan struct{}
}

func (e *streamEnds) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }
func (e *streamEnds) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}
func (e *streamEnds) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		s, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		s.OnEnd(func(err error) {
			e.mu.Lock()
			e.ends = append(e.ends, err)
			e.mu.Unlock()
			e.done <- struct{}{}
		})
		return s, nil
	}
}

// serveTicker serves Ticker over tcp:// from a Netron with opts until the
// test ends, and returns its address.
func serveTicker(t *testing.T, opts ...netron.Option) string {
	t.Helper()
	ctx := context.Background()
	server, err := netron.New(netron.Config{}, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Stop(ctx) })
	if err := server.Register("ticker", "1.0.0", Ticker{}); err != nil {
		t.Fatal(err)
	}
	addr, err := server.Listen(ctx, "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// tickerPeer serves Ticker over tcp:// and dials it from a Netron whose
// calling side records stream ends; both stop with the test.
func tickerPeer(t *testing.T) (*netron.Peer, *streamEnds) {
	t.Helper()
	addr := serveTicker(t)
	ends := &streamEnds{done: make(chan struct{}, 1)}
	return netron.DialForTest(t, addr, netron.Config{}, netron.WithInterceptors(ends)), ends
}

// An interceptor learns how a stream it opened ended: read to its end
// (nil), closed by the reader first (canceled), or failed by the producer
// (the producer's error).
func TestStreamOnEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, ends := tickerPeer(t)
	last := func() error {
		t.Helper()
		<-ends.done
		ends.mu.Lock()
		defer ends.mu.Unlock()
		return ends.ends[len(ends.ends)-1]
	}

	n := 0
	for _, err := range netron.CallStream[int](ctx, p, "ticker@1.0.0", "tick", 3, false) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if err := last(); n != 3 || err != nil {
		t.Fatalf("read to the end: %d items, end %v; want 3, nil", n, err)
	}

	for range netron.CallStream[int](ctx, p, "ticker@1.0.0", "tick", 100, false) {
		break
	}
	if err := last(); netron.CodeOf(err) != netron.CodeCanceled {
		t.Fatalf("closed by the reader: end %v, want canceled", err)
	}

	s, err := p.OpenStream(ctx, "ticker@1.0.0", "tick", 1, true)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.Recv(&v); err != nil {
		t.Fatal(err)
	}
	if err := s.Recv(&v); err == nil {
		t.Fatal("the failing stream did not fail")
	}
	if err := last(); err == nil || !strings.Contains(err.Error(), "the ticker broke") {
		t.Fatalf("failed by the producer: end %v, want the producer's error", err)
	}
	s.Close() // after the end: no second report
	select {
	case <-ends.done:
		t.Fatal("the end was reported twice")
	default:
	}
	var late error = errors.New("not run")
	s.OnEnd(func(err error) { late = err })
	if late == nil || late.Error() == "not run" {
		t.Fatalf("OnEnd after the end ran with %v, want the producer's error at once", late)
	}
}

// Peer.CallStream is CallStream's loop over encoded items: every item in
// order, the producer's error as the last one, an open failure as the only
// one, and breaking out closes the stream.
func TestPeerCallStreamIterates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, ends := tickerPeer(t)

	var got []any
	var end error
	for raw, err := range p.CallStream(ctx, "ticker@1.0.0", "tick", 3, true) {
		if err != nil {
			end = err
			break
		}
		v, derr := protocol.DecodeValue(raw, protocol.Limits{})
		if derr != nil {
			t.Fatal(derr)
		}
		got = append(got, v)
	}
	<-ends.done
	if !reflect.DeepEqual(got, []any{int64(0), int64(1), int64(2)}) || netron.CodeOf(end) != netron.CodeDataLoss {
		t.Fatalf("items %v, end %v; want 0 1 2 then data_loss", got, end)
	}

	for range p.CallStream(ctx, "ticker@1.0.0", "tick", 100, false) {
		break
	}
	<-ends.done
	ends.mu.Lock()
	last := ends.ends[len(ends.ends)-1]
	ends.mu.Unlock()
	if netron.CodeOf(last) != netron.CodeCanceled {
		t.Fatalf("breaking out: the stream ended with %v, want canceled (closed)", last)
	}

	n := 0
	for _, err := range p.CallStream(ctx, "ticker@1.0.0", "nosuch") {
		n++
		if netron.CodeOf(err) != netron.CodeNotFound {
			t.Fatalf("an unknown method: %v, want not_found", err)
		}
	}
	if n != 1 {
		t.Fatalf("an open failure was yielded %d times, want once", n)
	}
}

// streamRelease is a serving-side interceptor of the shape a guard's
// per-subject call slot takes: what it holds for a stream is given back
// when the stream's iterator returns. With gone set, it closes the
// connection before the stream can answer.
type streamRelease struct {
	gone     bool
	released chan struct{}
}

func (r *streamRelease) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc { return next }
func (r *streamRelease) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}
func (r *streamRelease) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		seq, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		if r.gone {
			_ = call.Peer.Close()
		}
		return func(yield func(any, error) bool) {
			defer func() { r.released <- struct{}{} }()
			seq(yield)
		}, nil
	}
}

// TestStreamIteratorRunsWhenItCannotBeSent: a stream whose connection
// is gone before its answer is sent still has its iterator ranged over,
// so what an interceptor holds for it is given back (the security guard's
// maxCallsPerSubject slot was kept for ever).
func TestStreamIteratorRunsWhenItCannotBeSent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, gone := range []bool{false, true} {
		rel := &streamRelease{gone: gone, released: make(chan struct{}, 1)}
		peer, err := netron.Dial(ctx, serveTicker(t, netron.WithInterceptors(rel)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := 0, error(nil)
		for _, ierr := range peer.CallStream(ctx, "ticker@1.0.0", "tick", 3, false) {
			if ierr != nil {
				err = ierr
				break
			}
			n++
		}
		switch {
		case !gone && (err != nil || n != 3):
			t.Fatalf("stream: %d items, %v; want 3 and no error", n, err)
		case gone && err == nil:
			t.Fatalf("stream over a connection closed by the server: %d items and no error", n)
		}
		select {
		case <-rel.released:
		case <-time.After(5 * time.Second):
			t.Fatalf("connection gone %v: the stream's iterator never ran, so what the interceptor holds is never given back", gone)
		}
		peer.Close()
	}
}
