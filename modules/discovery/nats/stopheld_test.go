package nats_test

import (
	"context"
	"testing"
	"time"
)

// An app stopping while the registry writes its entries again after a
// reconnection (or a change of the bucket), to a NATS that does not
// answer, is not held for that write's own budget: its Deregister ends
// with its context, and Close ends the write.
func TestStopNotHeldByWriteBack(t *testing.T) {
	t.Parallel()
	r, in := registeredThenSilent(t)
	back := r.BackSignal()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.Renew()
	}()
	select {
	case <-back:
	case <-time.After(5 * time.Second):
		t.Fatal("the write-back did not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = r.Deregister(ctx, in.ID) // nothing answers: an error
	if d := time.Since(start); d > time.Second {
		t.Errorf("Deregister with a context of 200ms took %v: held by the write-back", d.Round(time.Millisecond))
	}
	r.Close()
	select {
	case <-renewed:
	case <-time.After(time.Second):
		t.Error("the write-back went on for over a second after Close")
		<-renewed
	}
}
