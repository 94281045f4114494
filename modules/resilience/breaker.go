package resilience

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"

	"github.com/titanframework/titan/modules/netron"
)

// State is the state of a circuit breaker.
type State int

// The states of a circuit breaker.
const (
	// Closed lets calls through and counts their failures.
	Closed State = iota
	// Open refuses calls (unavailable, without sending them) until its
	// delay has passed.
	Open
	// HalfOpen lets a few probes through: their success closes the
	// breaker, a failure opens it again.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// StateChange is a change of state of a circuit breaker.
type StateChange struct {
	// Breaker is the breaker's name (CircuitBreakerConfig.Name).
	Breaker  string
	From, To State
}

// Defaults of [CircuitBreakerConfig].
const (
	DefaultFailures = 5
	DefaultDelay    = 5 * time.Second
	DefaultProbes   = 1
)

// DefaultFailureCodes are the codes of the failures a circuit breaker
// counts by default: those that say the remote is unwell rather than the
// call wrong.
var DefaultFailureCodes = []netron.Code{netron.CodeUnavailable, netron.CodeDeadlineExceeded, netron.CodeInternal}

// CircuitBreakerConfig configures a [CircuitBreaker]. Its zero value opens
// after 5 consecutive failures, stays open 5s, then lets 1 probe through.
type CircuitBreakerConfig struct {
	// Name names the breaker in the errors of the calls it refuses and in
	// its state changes; titan.Remote names it after the remote service
	// ("users@^1") or, for a breaker of one method, the method
	// ("users@^1.get"). "" means "circuit breaker".
	Name string
	// Failures opens the breaker after this many consecutive failures:
	// 0 means DefaultFailures (5).
	Failures int
	// Of, when set, opens the breaker when Failures of the last Of calls
	// failed (a ratio: Failures 5, Of 10 opens at half of the last ten)
	// rather than Failures in a row.
	Of int
	// Delay is how long the breaker stays open before it half-opens, at
	// the first call after it: 0 means DefaultDelay (5s).
	Delay time.Duration
	// Probes is how many calls a half-open breaker lets through; all of
	// them must succeed for it to close, and a failure opens it again.
	// Further calls are refused while the probes are out. 0 means
	// DefaultProbes (1).
	Probes int
	// FailureCodes are the codes of the failures it counts: nil means
	// DefaultFailureCodes (unavailable, deadline_exceeded, internal).
	// Other errors are answers of a working remote and count as
	// successes; a call the caller cancelled counts as neither.
	FailureCodes []netron.Code
	// OnStateChange, when set, is called after each change of state, for
	// metrics or logs. It must not block; calls for one breaker may
	// overlap.
	OnStateChange func(StateChange)
}

// Check reports a value out of range, naming the field; [CircuitBreaker]
// uses the default in its place.
func (c CircuitBreakerConfig) Check() error {
	var errs []error
	if c.Failures < 0 {
		errs = append(errs, fmt.Errorf("Failures %d: want 1 or more (0: %d)", c.Failures, DefaultFailures))
	}
	if c.Of < 0 || c.Of > 0 && c.Of < max(c.Failures, 1) {
		errs = append(errs, fmt.Errorf("Of %d: want at least Failures (%d), or 0 for consecutive failures", c.Of, c.Failures))
	}
	if c.Delay < 0 {
		errs = append(errs, fmt.Errorf("Delay %v: want a positive duration (0: %v)", c.Delay, DefaultDelay))
	}
	if c.Probes < 0 {
		errs = append(errs, fmt.Errorf("Probes %d: want 1 or more (0: %d)", c.Probes, DefaultProbes))
	}
	return errors.Join(errs...)
}

// Breaker is a circuit breaker: an interceptor that counts the failures
// of the calls it sees and, past its threshold, refuses calls for a while
// (see [CircuitBreaker]). It is safe for concurrent use.
type Breaker struct {
	name   string
	probes int
	codes  []netron.Code
	cb     circuitbreaker.CircuitBreaker[any]
}

// CircuitBreaker returns a circuit breaker configured by cfg. Closed, it
// lets calls through and counts their failures; after cfg.Failures in a
// row (or cfg.Failures of the last cfg.Of) it opens: calls fail at once
// with unavailable, matching [ErrCircuitOpen], with a message naming the breaker, the service and method, and the
// time left ("circuit breaker \"users@^1\" is open: users@^1.get not
// sent; retry after 4.2s"). After cfg.Delay the next call half-opens it
// and goes through as a probe, with up to cfg.Probes in all: if they
// succeed it closes, if one fails it opens again. For a stream, the
// opening counts. Values out of range in cfg take their defaults (see
// [CircuitBreakerConfig.Check]). The breaker is failsafe-go's.
func CircuitBreaker(cfg CircuitBreakerConfig) *Breaker {
	b := &Breaker{name: cfg.Name, probes: cfg.Probes, codes: cfg.FailureCodes}
	if b.name == "" {
		b.name = "circuit breaker"
	}
	if b.probes <= 0 {
		b.probes = DefaultProbes
	}
	if b.codes == nil {
		b.codes = DefaultFailureCodes
	}
	failures := cfg.Failures
	if failures <= 0 {
		failures = DefaultFailures
	}
	of := failures
	if cfg.Of >= failures {
		of = cfg.Of
	}
	delay := cfg.Delay
	if delay <= 0 {
		delay = DefaultDelay
	}
	builder := circuitbreaker.NewBuilder[any]().
		WithFailureThresholdRatio(uint(failures), uint(of)).
		WithDelay(delay).
		WithSuccessThreshold(uint(b.probes))
	if f := cfg.OnStateChange; f != nil {
		name := b.name
		builder = builder.OnStateChanged(func(e circuitbreaker.StateChangedEvent) {
			f(StateChange{Breaker: name, From: stateOf(e.OldState), To: stateOf(e.NewState)})
		})
	}
	b.cb = builder.Build()
	return b
}

func stateOf(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.OpenState:
		return Open
	case circuitbreaker.HalfOpenState:
		return HalfOpen
	}
	return Closed
}

// Name returns the breaker's name.
func (b *Breaker) Name() string { return b.name }

// State returns the breaker's state now. An open breaker whose delay has
// passed still reports Open until the next call half-opens it.
func (b *Breaker) State() State { return stateOf(b.cb.State()) }

// BorrowsCalls marks the breaker a [netron.CallBorrower].
func (*Breaker) BorrowsCalls() {}

// WrapUnary implements [netron.Interceptor].
func (b *Breaker) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() {
			return next(ctx, call)
		}
		if !b.cb.TryAcquirePermit() {
			return nil, b.refuse(call)
		}
		res, err := next(ctx, call)
		b.record(ctx, err)
		return res, err
	}
}

// WrapStreamingHandler implements [netron.Interceptor] by returning next.
func (*Breaker) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// WrapStreamingClient implements [netron.Interceptor]: the opening of a
// stream counts as a call.
func (b *Breaker) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if !b.cb.TryAcquirePermit() {
			return nil, b.refuse(call)
		}
		s, err := next(ctx, call)
		b.record(ctx, err)
		return s, err
	}
}

// record counts the outcome of a call the breaker let through.
func (b *Breaker) record(ctx context.Context, err error) {
	switch {
	case err == nil:
		b.cb.RecordSuccess()
	case errors.Is(ctx.Err(), context.Canceled) || refused(err):
		// Neither the remote's success nor its failure; a probe gives its
		// place back as a failure, which is all failsafe can take.
		if b.cb.IsHalfOpen() {
			b.cb.RecordFailure()
		}
	case slices.Contains(b.codes, netron.CodeOf(err)):
		b.cb.RecordFailure()
	default:
		b.cb.RecordSuccess()
	}
}

// refuse returns the error of a call refused without being sent.
func (b *Breaker) refuse(call *netron.Call) error {
	var msg string
	if d := b.cb.RemainingDelay(); b.cb.IsOpen() {
		msg = fmt.Sprintf("circuit breaker %q is open: %s.%s not sent; retry after %v", b.name, call.Service, call.Method, d.Round(time.Millisecond))
	} else {
		msg = fmt.Sprintf("circuit breaker %q is half-open and waiting for its %d probe(s): %s.%s not sent; retry shortly", b.name, b.probes, call.Service, call.Method)
	}
	return netron.NewError(netron.CodeUnavailable, &refusal{msg: msg, kind: ErrCircuitOpen})
}
