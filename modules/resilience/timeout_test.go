package resilience_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// A timeout bounds a call and says which; a caller's sooner deadline
// stays; a stream's timeout bounds its opening only.
func TestTimeout(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.Timeout(100*time.Millisecond))

	start := time.Now()
	_, err := get(p, "slow", 2000)
	took := time.Since(start)
	// Ended by the timeout, not by the method's return two seconds later.
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded || took > 1500*time.Millisecond {
		t.Fatalf("a 2s call under a 100ms timeout: %v after %v", err, took)
	}
	if want := "deadline_exceeded: flaky@^1.slow: no answer within its timeout of 100ms"; err.Error() != want {
		t.Fatalf("message %q\nwant %q", err, want)
	}
	// A call within its timeout, and a caller's deadline shorter than the
	// timeout, under a timeout far from both: a loaded machine cannot turn
	// one into the other (a 10ms call under 100ms once took longer).
	wide := dial(t, addr, resilience.Timeout(5*time.Second))
	if v, err := get(wide, "slow", 10); err != nil || v != "flaky" {
		t.Fatalf("a 10ms call under a 5s timeout: %q, %v", v, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := netron.CallUnary[string](ctx, wide, "flaky@^1", "slow", 2000); netron.CodeOf(err) != netron.CodeDeadlineExceeded || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("a caller's 30ms deadline under a 5s timeout: %v after %v", err, time.Since(start))
	}

	n := 0
	for _, err := range netron.CallStream[int](context.Background(), p, "flaky@^1", "count", 5) {
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // 150ms in all: past the timeout
		n++
	}
	if n != 5 {
		t.Fatalf("a stream read for longer than the timeout gave %d items, want 5", n)
	}
}

// A stream opening that panics below a timeout has its context cancelled
// at once, not when the timeout would have passed.
func TestTimeoutReleasesAStreamOpeningThatPanicked(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	var below panicking
	p := dial(t, addr, resilience.Timeout(time.Hour), &below)
	below.on.Store(true)
	recovered(t, func() { _ = openStream(context.Background(), p) })
	select {
	case <-(*below.ctx.Load()).Done():
	default:
		t.Fatal("the context of the stream opening that panicked lives on")
	}
}
