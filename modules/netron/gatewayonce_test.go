package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// newCalcNetron returns a Netron serving calculator@1.0.0, stopped at
// cleanup.
func newCalcNetron(t *testing.T) *netron.Netron {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop(context.Background()) })
	if err := n.Register("calculator", "1.0.0", &Calc{}); err != nil {
		t.Fatal(err)
	}
	return n
}

// The iterator InvokeStream returns runs the method once: ranged again,
// it yields an error instead of ending the call a second time, and Stop
// finds no call in flight.
func TestInvokeStreamRangedTwiceYieldsError(t *testing.T) {
	t.Parallel()
	n := newCalcNetron(t)
	ctx := context.Background()
	seq, err := n.InvokeStream(ctx, &netron.Invocation{Service: "calculator@1.0.0", Method: "count", Args: raws(t, 2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
	}
	var errs []error
	for _, err := range seq {
		errs = append(errs, err)
	}
	if len(errs) != 1 || netron.CodeOf(errs[0]) != netron.CodeFailedPrecondition {
		t.Fatalf("the second range yielded %v, want one failed_precondition error", errs)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.Stop(sctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// An iterator of InvokeStream that is never ranged is released when its
// context ends: Stop does not wait for it; ranged after that, it yields
// the context's error.
func TestInvokeStreamNotRangedIsReleasedAtContextEnd(t *testing.T) {
	t.Parallel()
	n := newCalcNetron(t)
	ctx, cancelCall := context.WithCancel(context.Background())
	seq, err := n.InvokeStream(ctx, &netron.Invocation{Service: "calculator@1.0.0", Method: "count", Args: raws(t, 2)})
	if err != nil {
		t.Fatal(err)
	}
	cancelCall()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Stop(sctx); err != nil {
		t.Fatalf("Stop with an iterator whose context ended and that was never ranged: %v", err)
	}
	var errs []error
	for _, err := range seq {
		errs = append(errs, err)
	}
	if len(errs) != 1 || netron.CodeOf(errs[0]) != netron.CodeCanceled {
		t.Fatalf("ranged after its context ended: %v, want one canceled error", errs)
	}
}
