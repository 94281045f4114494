package netron_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Waiter blocks until its context ends and reports what the method saw.
type Waiter struct {
	seen    chan waitSeen
	started chan struct{} // a value when the method starts
}

type waitSeen struct {
	err         error // ctx.Err() once done
	childErr    error // the same through a context derived with WithCancel
	hasDeadline bool
	peer        bool // PeerFromContext found the caller
}

func (w *Waiter) Wait(ctx context.Context) (string, error) {
	select {
	case w.started <- struct{}{}:
	default:
	}
	_, dl := ctx.Deadline()
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	<-child.Done()
	w.seen <- waitSeen{err: ctx.Err(), childErr: child.Err(), hasDeadline: dl, peer: netron.PeerFromContext(ctx) != nil}
	return "", ctx.Err()
}

func waiterPeer(t *testing.T) (*Waiter, *netron.Peer) {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &Waiter{seen: make(chan waitSeen, 1), started: make(chan struct{}, 1)}
	if err := n.Register("waiter", "1.0.0", w); err != nil {
		t.Fatal(err)
	}
	bound, err := n.Listen(context.Background(), "tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.Stop(ctx)
	})
	p, err := netron.Dial(context.Background(), bound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return w, p
}

// waitStarted waits up to 5 s for the method to be running.
func waitStarted(t *testing.T, w *Waiter) {
	t.Helper()
	select {
	case <-w.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the method was not called within 5s")
	}
}

func waitSeenWithin(t *testing.T, w *Waiter) waitSeen {
	t.Helper()
	select {
	case s := <-w.seen:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("the method's context was not cancelled within 5s")
		return waitSeen{}
	}
}

// A served call's context ends when the caller cancels, when the caller's
// deadline passes and when the connection goes; contexts derived from it
// follow, and it carries the calling peer.
func TestServedCallContext(t *testing.T) {
	t.Run("caller cancels", func(t *testing.T) {
		t.Parallel()
		w, p := waiterPeer(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := p.Call(ctx, "waiter", "wait"); errc <- err }()
		waitStarted(t, w) // the call runs on the server
		cancel()
		s := waitSeenWithin(t, w)
		if !errors.Is(s.err, context.Canceled) || !errors.Is(s.childErr, context.Canceled) || !s.peer || s.hasDeadline {
			t.Fatalf("method saw %+v", s)
		}
		if err := <-errc; netron.CodeOf(err) != netron.CodeCanceled {
			t.Fatalf("call: %v", err)
		}
	})
	t.Run("caller deadline", func(t *testing.T) {
		t.Parallel()
		w, p := waiterPeer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := p.Call(ctx, "waiter", "wait")
		if netron.CodeOf(err) != netron.CodeDeadlineExceeded {
			t.Fatalf("call: %v", err)
		}
		s := waitSeenWithin(t, w)
		if s.err == nil || s.childErr == nil || !s.hasDeadline {
			t.Fatalf("method saw %+v", s)
		}
	})
	t.Run("connection closes", func(t *testing.T) {
		t.Parallel()
		w, p := waiterPeer(t)
		go p.Call(context.Background(), "waiter", "wait")
		waitStarted(t, w) // the call runs on the server
		p.Close()
		s := waitSeenWithin(t, w)
		if !errors.Is(s.err, context.Canceled) || !errors.Is(s.childErr, context.Canceled) {
			t.Fatalf("method saw %+v", s)
		}
	})
}
