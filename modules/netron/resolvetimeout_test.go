package netron_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// slowFirstLook is an Access whose first look at a method (the
// query_interface that resolves a version range) takes delay.
type slowFirstLook struct {
	delay  time.Duration
	looked atomic.Bool
}

func (a *slowFirstLook) Identify(ctx context.Context, _ netron.Credentials) (context.Context, error) {
	return ctx, nil
}

func (a *slowFirstLook) Visible(context.Context, *netron.MethodSpec) bool {
	if a.looked.CompareAndSwap(false, true) {
		time.Sleep(a.delay)
	}
	return true
}

// A call without a deadline to a version range not resolved yet is
// bounded by one request timeout, resolving included: not one for the
// query_interface and another for the call.
func TestCallResolvingRangeHasOneRequestTimeout(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	gate := &Turnstile{open: make(chan struct{})}
	_, addr := netron.ServeForTest(t, netron.Config{}, "tcp://127.0.0.1:0", map[string]any{"gate": gate}, netron.WithAccess(&slowFirstLook{delay: 900 * time.Millisecond}))
	p := dialWith(t, addr, netron.Config{RequestTimeout: timeout})
	began := time.Now()
	_, err := p.Call(context.Background(), "gate@^1", "wait")
	took := time.Since(began)
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("a call that hangs: %v, want deadline_exceeded", err)
	}
	if took > timeout+700*time.Millisecond { // one timeout and a margin; two took 1.9 s
		t.Fatalf("a call resolving its range took %v to time out, want about the request timeout (%v)", took, timeout)
	}
}
