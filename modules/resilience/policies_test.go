package resilience_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// Policies of one method replace the remote's of the same kind for it:
// its own timeout, its own breaker counted apart; the others it shares.
func TestPoliciesPerMethod(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	var ch changes
	ps := resilience.Policies{
		Timeout:        time.Second,
		CircuitBreaker: &resilience.CircuitBreakerConfig{Failures: 2, Delay: time.Minute},
		Methods: map[string]resilience.Policies{
			"slow": {Timeout: 50 * time.Millisecond},
			"put":  {CircuitBreaker: &resilience.CircuitBreakerConfig{Failures: 1, Delay: time.Minute}},
		},
	}
	p := dial(t, addr, ps.Interceptors("flaky@^1", resilience.ChainOptions{OnStateChange: ch.record})...)

	if _, err := get(p, "slow", 500); !strings.Contains(err.Error(), "flaky@^1.slow: no answer within its timeout of 50ms") {
		t.Fatalf("slow under its own 50ms timeout: %v", err)
	}
	f.failing.Store(true)
	_, _ = get(p, "put", "k")
	_, err := get(p, "put", "k")
	if !errors.Is(err, resilience.ErrCircuitOpen) || !strings.Contains(err.Error(), `circuit breaker "flaky@^1.put" is open: flaky@^1.put not sent`) {
		t.Fatalf("put after a failure under its own breaker of 1: %v", err)
	}
	f.failing.Store(false)
	if _, err := get(p, "get", "k"); err != nil {
		t.Fatalf("get, under the remote's breaker (put's failure not counted there): %v", err)
	}
	if ch.String() != "flaky@^1.put closed>open" {
		t.Fatalf("changes %q", ch.String())
	}
	// The remote's breaker counts get's failures, not put's.
	f.failing.Store(true)
	_, _ = get(p, "get", "k")
	_, _ = get(p, "get", "k")
	if _, err := get(p, "get", "k"); !errors.Is(err, resilience.ErrCircuitOpen) || !strings.Contains(err.Error(), `"flaky@^1" is open`) {
		t.Fatalf("get after two failures in a row: %v", err)
	}
}

// ForMethod runs its interceptors on one method's calls only.
func TestForMethod(t *testing.T) {
	f := &Flaky{name: "flaky"}
	_, addr := serve(t, f)
	p := dial(t, addr, resilience.ForMethod("slow", resilience.Timeout(50*time.Millisecond)))
	if _, err := get(p, "slow", 300); netron.CodeOf(err) != netron.CodeDeadlineExceeded {
		t.Fatalf("slow: %v", err)
	}
	if _, err := get(p, "get", "k"); err != nil {
		t.Fatalf("get: %v", err)
	}
}

// Check names each field out of range.
func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{resilience.RetryConfig{Attempts: -1}.Check(), "Attempts -1: want 1 or more (0: 3)"},
		{resilience.RetryConfig{Backoff: time.Second, MaxBackoff: time.Millisecond}.Check(), "MaxBackoff 1ms is less than Backoff 1s"},
		{resilience.RetryConfig{Jitter: 1.5}.Check(), "Jitter 1.5: want a fraction below 1"},
		{resilience.RetryConfig{Codes: []netron.Code{99}}.Check(), "Codes: 99 is no code"},
		{resilience.CircuitBreakerConfig{Failures: 5, Of: 3}.Check(), "Of 3: want at least Failures (5)"},
		{resilience.CircuitBreakerConfig{Delay: -time.Second}.Check(), "Delay -1s: want a positive duration"},
		{resilience.BulkheadConfig{}.Check(), "Max 0: want 1 or more"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%v\nwant it to contain %s", tc.err, tc.want)
		}
	}
	if err := (resilience.RetryConfig{}).Check(); err != nil {
		t.Errorf("the zero RetryConfig: %v", err)
	}
	if err := (resilience.CircuitBreakerConfig{Failures: 5, Of: 10}).Check(); err != nil {
		t.Errorf("5 of 10: %v", err)
	}
}

// The policies borrow their Calls (the Netron may reuse them), and
// ForMethod does when what it wraps does.
func TestCallBorrowers(t *testing.T) {
	borrows := func(ic netron.Interceptor) bool { _, ok := ic.(netron.CallBorrower); return ok }
	all := resilience.Policies{
		Timeout: time.Second, Retry: &resilience.RetryConfig{}, Bulkhead: &resilience.BulkheadConfig{Max: 1},
		CircuitBreaker: &resilience.CircuitBreakerConfig{}, Methods: map[string]resilience.Policies{"get": {Timeout: time.Second}},
	}.Interceptors("x", resilience.ChainOptions{})
	for _, ic := range append(all, resilience.ForMethod("get", resilience.Timeout(time.Second))) {
		if !borrows(ic) {
			t.Errorf("%T does not borrow its Calls", ic)
		}
	}
	keeps := netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc { return next })
	if borrows(resilience.ForMethod("get", keeps)) {
		t.Error("ForMethod of an interceptor that may keep its Calls says it borrows them")
	}
}

// Of is checked against the Failures the breaker uses: with Failures
// unset (5), an Of of 3 cannot be honoured (the breaker would ignore it
// and count 5 in a row), so Check must say so.
func TestCheckOfAgainstDefaultFailures(t *testing.T) {
	err := resilience.CircuitBreakerConfig{Of: 3}.Check()
	if want := "Of 3: want at least Failures (5)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("CircuitBreakerConfig{Of: 3}.Check() = %v\nwant it to contain %s", err, want)
	}
	if err := (resilience.CircuitBreakerConfig{Of: 10}).Check(); err != nil {
		t.Fatalf("CircuitBreakerConfig{Of: 10}.Check() = %v, want nil", err)
	}
}
