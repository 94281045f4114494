package netron_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A call without a deadline fails with deadline_exceeded after the
// request timeout, never before it: a timer's for timeouts under a second,
// the sweeper's (within one 50 ms tick; 1030 ms is not a whole number of
// ticks) from a second on. The connection keeps serving.
func TestRequestTimeouts(t *testing.T) {
	s := startServer(t, "tcp")
	for _, timeout := range []time.Duration{200 * time.Millisecond, 1030 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			t.Parallel()
			n, err := netron.New(netron.Config{RequestTimeout: timeout}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { n.Stop(context.Background()) })
			ctx := context.Background()
			p, err := n.Dial(ctx, s.addr)
			if err != nil {
				t.Fatal(err)
			}
			// Calls that answer in time, then a wait past the timeout: none
			// of them may be failed afterwards.
			for range 50 {
				if _, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 1, 2); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			_, err = netron.CallUnary[string](ctx, p, "calculator@1.0.0", "slow", 30*time.Second)
			took := time.Since(start)
			if netron.CodeOf(err) != netron.CodeDeadlineExceeded || !strings.Contains(err.Error(), "no answer within "+timeout.String()) {
				t.Fatalf("slow call: %v, want deadline_exceeded after %v", err, timeout)
			}
			// Never early; the upper bound leaves room for a loaded machine
			// (the method would answer after 30 s).
			if took < timeout || took > timeout+2*time.Second {
				t.Fatalf("slow call failed after %v, want %v to %v", took, timeout, timeout+2*time.Second)
			}
			if got, err := netron.CallUnary[float64](ctx, p, "calculator@1.0.0", "add", 2, 3); err != nil || got != 5 {
				t.Fatalf("a call after the timeout: %v, %v", got, err)
			}
			// A call with a deadline of its own is bounded by it alone.
			dctx, cancel := context.WithTimeout(ctx, timeout/2)
			defer cancel()
			if _, err := netron.CallUnary[string](dctx, p, "calculator@1.0.0", "slow", 30*time.Second); netron.CodeOf(err) != netron.CodeDeadlineExceeded {
				t.Fatalf("slow call with a deadline: %v", err)
			}
		})
	}
}
