package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// changes records the state changes of breakers.
type changes struct {
	mu  sync.Mutex
	all []string
}

func (c *changes) record(sc resilience.StateChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, fmt.Sprintf("%s %s>%s", sc.Breaker, sc.From, sc.To))
}

func (c *changes) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.all, ", ")
}

// A breaker opens after its threshold of consecutive failures, then fails
// calls fast without sending them, naming itself; after its delay a probe
// goes through: a failed probe opens it again, a successful one closes it.
func TestCircuitBreakerLifecycle(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	var ch changes
	const delay = 300 * time.Millisecond
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Name: "flaky", Failures: 3, Delay: delay, OnStateChange: ch.record})
	p := dial(t, addr, b)

	if _, err := get(p, "get", "k"); err != nil || b.State() != resilience.Closed {
		t.Fatalf("a healthy call: %v, state %v", err, b.State())
	}
	f.failing.Store(true)
	for i := range 3 {
		if _, err := get(p, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable || errors.Is(err, resilience.ErrCircuitOpen) {
			t.Fatalf("failure %d: %v, want the server's unavailable", i+1, err)
		}
	}
	if b.State() != resilience.Open || ch.String() != "flaky closed>open" {
		t.Fatalf("after 3 failures: state %v, changes %q", b.State(), ch.String())
	}

	sent := f.calls.Load()
	start := time.Now()
	_, err := get(p, "get", "k")
	took := time.Since(start)
	if netron.CodeOf(err) != netron.CodeUnavailable || !errors.Is(err, resilience.ErrCircuitOpen) || errors.Is(err, netron.ErrNotRun) {
		t.Fatalf("a call while open: %v (code %v), want unavailable matching ErrCircuitOpen, not ErrNotRun", err, netron.CodeOf(err))
	}
	if want := `unavailable: circuit breaker "flaky" is open: flaky@^1.get not sent; retry after `; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("message %q\nwant it to start with %q", err, want)
	}
	if f.calls.Load() != sent || took > 50*time.Millisecond {
		t.Fatalf("a call while open reached the server (%d calls, %d before) or took %v", f.calls.Load(), sent, took)
	}

	time.Sleep(delay + 50*time.Millisecond) // still failing: the probe fails
	if _, err := get(p, "get", "k"); errors.Is(err, resilience.ErrCircuitOpen) || f.calls.Load() != sent+1 {
		t.Fatalf("the probe after the delay: %v (%d calls, want %d)", err, f.calls.Load(), sent+1)
	}
	if b.State() != resilience.Open {
		t.Fatalf("after a failed probe: %v, want open", b.State())
	}

	f.failing.Store(false)
	time.Sleep(delay + 50*time.Millisecond)
	if v, err := get(p, "get", "k"); err != nil || v != "flaky:k" {
		t.Fatalf("the probe of a healed server: %q, %v", v, err)
	}
	if b.State() != resilience.Closed {
		t.Fatalf("after a good probe: %v, want closed", b.State())
	}
	want := "flaky closed>open, flaky open>half-open, flaky half-open>open, flaky open>half-open, flaky half-open>closed"
	if ch.String() != want {
		t.Fatalf("changes:\n%s\nwant\n%s", ch.String(), want)
	}
	for range 5 {
		if _, err := get(p, "get", "k"); err != nil {
			t.Fatalf("closed again: %v", err)
		}
	}
}

// With Of, a breaker opens at a ratio of failures among the last calls,
// where the consecutive rule would not; errors that say the call was
// wrong (invalid_argument) are no failures of the remote.
func TestCircuitBreakerRatioAndCodes(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	consecutive := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Failures: 2, Delay: time.Minute})
	ratio := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Failures: 2, Of: 4, Delay: time.Minute})
	pc, pr := dial(t, addr, consecutive), dial(t, addr, ratio)
	for i := range 4 { // ok, failed, ok, failed
		f.failing.Store(i%2 == 1)
		_, _ = get(pc, "get", "k")
		_, _ = get(pr, "get", "k")
	}
	if consecutive.State() != resilience.Closed || ratio.State() != resilience.Open {
		t.Fatalf("after ok, failed, ok, failed: consecutive(2) %v, want closed; 2 of 4 %v, want open", consecutive.State(), ratio.State())
	}
	_, err := get(pr, "get", "k")
	if !strings.Contains(err.Error(), `circuit breaker "circuit breaker" is open`) {
		t.Fatalf("an unnamed breaker: %v", err)
	}

	f.failing.Store(false)
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Failures: 1, Delay: time.Minute})
	p := dial(t, addr, b)
	for range 5 {
		if _, err := p.Call(t.Context(), "flaky@^1", "bad"); netron.CodeOf(err) != netron.CodeInvalidArgument {
			t.Fatalf("bad: %v", err)
		}
	}
	if b.State() != resilience.Closed {
		t.Fatalf("after invalid_argument answers: %v, want closed", b.State())
	}
}

// A timeout ends a call that takes too long the same way for unary calls
// and stream openings: two that time out open a breaker of 2 below it,
// while openings their caller cancels count as neither.
func TestCircuitBreakerCountsTimeouts(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f, stuckOpenings{})
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, p *netron.Peer) error
	}{
		{"unary", func(ctx context.Context, p *netron.Peer) error {
			_, err := netron.CallUnary[string](ctx, p, "flaky@^1", "wait")
			return err
		}},
		{"stream", openStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ch changes
			ps := resilience.Policies{Timeout: 100 * time.Millisecond,
				CircuitBreaker: &resilience.CircuitBreakerConfig{Failures: 2, Delay: time.Minute, OnStateChange: ch.record}}
			p := dial(t, addr, ps.Interceptors("flaky@^1", resilience.ChainOptions{})...)

			for range 3 { // the caller's own cancellations
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				if err := tc.call(ctx, p); netron.CodeOf(err) != netron.CodeCanceled {
					t.Fatalf("a call its caller cancelled: %v, want canceled", err)
				}
				cancel()
			}
			if ch.String() != "" {
				t.Fatalf("after 3 calls their caller cancelled: changes %q, want none", ch.String())
			}
			for i := range 2 {
				if err := tc.call(context.Background(), p); netron.CodeOf(err) != netron.CodeDeadlineExceeded {
					t.Fatalf("timeout %d: %v, want deadline_exceeded", i+1, err)
				}
			}
			if err := tc.call(context.Background(), p); !errors.Is(err, resilience.ErrCircuitOpen) {
				t.Fatalf("after 2 timeouts: %v, want the open breaker's refusal", err)
			}
			if ch.String() != "flaky@^1 closed>open" {
				t.Fatalf("changes %q, want the breaker opened", ch.String())
			}
		})
	}
}

// A half-open probe its caller cancels counts as neither: it gives its
// place to the next call, which closes the breaker of a healthy remote,
// rather than opening the breaker for another delay.
func TestCircuitBreakerProbeCancelledByItsCaller(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	var ch changes
	const delay = 100 * time.Millisecond
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Name: "flaky", Failures: 1, Delay: delay, OnStateChange: ch.record})
	p := dial(t, addr, b)
	f.failing.Store(true)
	if _, err := get(p, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("the failure: %v", err)
	}
	f.failing.Store(false)
	time.Sleep(delay + 20*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(20*time.Millisecond, cancel) // the caller gives up on a slow method
	if _, err := netron.CallUnary[string](ctx, p, "flaky@^1", "wait"); netron.CodeOf(err) != netron.CodeCanceled {
		t.Fatalf("the probe its caller cancelled: %v", err)
	}
	if b.State() != resilience.HalfOpen {
		t.Errorf("after the probe its caller cancelled: %v, want half-open", b.State())
	}
	if v, err := get(p, "get", "k"); err != nil || v != "flaky:k" {
		t.Fatalf("the next call, on a healthy remote: %q, %v; want it sent as the probe", v, err)
	}
	if want := "flaky closed>open, flaky open>half-open, flaky half-open>closed"; ch.String() != want {
		t.Fatalf("changes:\n%s\nwant\n%s", ch.String(), want)
	}
}

// A call that panics below a breaker counts as a failure, unary calls and
// stream openings alike: a half-open probe that panics opens the breaker
// again, rather than leaving it waiting for its probe for good, and a
// call that panics opens a closed breaker of 1.
func TestCircuitBreakerCountsPanicsAsFailures(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	for _, tc := range callKinds {
		t.Run(tc.name, func(t *testing.T) {
			const delay = 50 * time.Millisecond
			b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Failures: 1, Delay: delay})
			var below panicking
			p := dial(t, addr, b, &below)
			f.failing.Store(true)
			_, _ = get(p, "get", "k")
			f.failing.Store(false)
			if b.State() != resilience.Open {
				t.Fatalf("after a failure: %v, want open", b.State())
			}

			time.Sleep(delay + 20*time.Millisecond)
			below.on.Store(true)
			recovered(t, func() { _ = tc.call(p) }) // the probe
			below.on.Store(false)
			if b.State() != resilience.Open {
				t.Errorf("after a probe that panicked: %v, want open", b.State())
			}
			time.Sleep(delay + 20*time.Millisecond)
			if err := tc.call(p); err != nil || b.State() != resilience.Closed {
				t.Fatalf("the next probe, on a healthy remote: %v, state %v; want it to close the breaker", err, b.State())
			}

			below.on.Store(true)
			recovered(t, func() { _ = tc.call(p) })
			below.on.Store(false)
			if b.State() != resilience.Open {
				t.Fatalf("after a call that panicked: %v, want open", b.State())
			}
		})
	}
}

// A half-open breaker lets through its probes and no more: a call let
// through before it opened that ends while it is half-open holds none of
// its probes' places, so its success neither lets another call through
// nor counts as a probe's.
func TestCircuitBreakerHalfOpenIgnoresEarlierCalls(t *testing.T) {
	early, probed := &Flaky{name: "early"}, &Flaky{name: "probed"}
	_, earlyAddr := serve(t, early)
	_, probedAddr := serve(t, probed)
	const delay = 100 * time.Millisecond
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Name: "flaky", Failures: 1, Probes: 2, Delay: delay})
	pe, pp := dial(t, earlyAddr, b), dial(t, probedAddr, b)

	earlyDone := make(chan error, 1)
	go func() { _, err := get(pe, "wait"); earlyDone <- err }()
	eventually(t, "the early call reaches its server", func() bool { return early.inflight.Load() == 1 })
	probed.failing.Store(true)
	if _, err := get(pp, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable || b.State() != resilience.Open {
		t.Fatalf("the failure: %v, state %v; want unavailable and open", err, b.State())
	}
	probed.failing.Store(false)
	time.Sleep(delay + 20*time.Millisecond)

	probes := make(chan error, 2)
	for range 2 {
		go func() { _, err := get(pp, "wait"); probes <- err }()
	}
	eventually(t, "the 2 probes reach their server", func() bool { return probed.inflight.Load() == 2 })
	close(early.hold)
	if err := <-earlyDone; err != nil {
		t.Fatalf("the early call: %v", err)
	}
	if _, err := get(pp, "get", "k"); !errors.Is(err, resilience.ErrCircuitOpen) {
		t.Fatalf("a call while the 2 probes are out, after the early call succeeded: %v; want it refused (ErrCircuitOpen)", err)
	}
	if b.State() != resilience.HalfOpen {
		t.Fatalf("after the early call: %v, want half-open until the probes end", b.State())
	}
	close(probed.hold)
	for range 2 {
		if err := <-probes; err != nil {
			t.Fatalf("a probe: %v", err)
		}
	}
	if b.State() != resilience.Closed {
		t.Fatalf("after the 2 probes succeeded: %v, want closed", b.State())
	}
}

// A breaker that its probe closed again is not opened by the failure of
// a call let through before it opened: that call belongs to the outage the
// breaker has seen, not to the remote it found well again (a slow call
// still out when an instance dies would otherwise reopen it at once).
func TestCircuitBreakerClosedIgnoresEarlierCalls(t *testing.T) {
	early, probed := &Flaky{name: "early"}, &Flaky{name: "probed"}
	earlyServer, earlyAddr := serve(t, early)
	_, probedAddr := serve(t, probed)
	var ch changes
	b := resilience.CircuitBreaker(resilience.CircuitBreakerConfig{Name: "flaky", Failures: 1, Delay: 20 * time.Millisecond, OnStateChange: ch.record})
	pe, pp := dial(t, earlyAddr, b), dial(t, probedAddr, b)

	earlyDone := make(chan error, 1)
	go func() { _, err := get(pe, "wait"); earlyDone <- err }()
	eventually(t, "the early call reaches its server", func() bool { return early.inflight.Load() == 1 })
	probed.failing.Store(true)
	if _, err := get(pp, "get", "k"); netron.CodeOf(err) != netron.CodeUnavailable || b.State() != resilience.Open {
		t.Fatalf("the failure: %v, state %v; want unavailable and open", err, b.State())
	}
	probed.failing.Store(false)
	eventually(t, "a probe closes the breaker", func() bool {
		_, err := get(pp, "get", "k")
		return err == nil
	})
	kill(earlyServer)() // the early call fails: its connection is lost
	if err := <-earlyDone; netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("the early call: %v, want unavailable", err)
	}
	if want := "flaky closed>open, flaky open>half-open, flaky half-open>closed"; b.State() != resilience.Closed || ch.String() != want {
		t.Fatalf("after the early call failed: state %v, changes %q; want closed, changes %q", b.State(), ch.String(), want)
	}
}
