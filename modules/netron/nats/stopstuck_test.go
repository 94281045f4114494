package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Stuck has a method that ignores its context until the test lets it go.
type Stuck struct {
	started chan struct{}
	release chan struct{}
}

func (s *Stuck) Hang(context.Context) (string, error) {
	s.started <- struct{}{}
	<-s.release
	return "late", nil
}

// Stop returns once its context ends even if a call served over NATS
// ignores its cancellation, as it does for calls over a stream transport
// or HTTP, reporting the call still running: the gateway used to wait for
// the method to return, however long past the stop timeout.
func TestStopReturnsAtItsDeadlineWithAStuckCall(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stuck := &Stuck{started: make(chan struct{}, 1), release: make(chan struct{})}
	ctx := serveOnNATS(t, n, addr, "stuck", "1.0.0", stuck)
	p := dial(t, addr, netron.Config{})
	t.Cleanup(func() { close(stuck.release) }) // first of the cleanups: the Stops after it may wait for the method
	go func() { _, _ = p.Call(ctx, "stuck@1.0.0", "hang") }()
	select {
	case <-stuck.started:
	case <-ctx.Done():
		t.Fatal("the call did not start")
	}
	stopped := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		stopped <- n.Stop(sctx)
	}()
	select {
	case err := <-stopped:
		if err == nil {
			t.Error("Stop with a call still running returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop with a stop timeout of 200ms has not returned after 10s: it waits for a call that ignores its context")
	}
}
