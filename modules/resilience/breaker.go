package resilience

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	// Further calls are refused while the probes are out; a probe that
	// counts as neither (see FailureCodes) gives its place to the next
	// call, and a call let through before the breaker half-opened that
	// ends while it is half-open counts as neither. 0 means DefaultProbes
	// (1).
	Probes int
	// FailureCodes are the codes of the failures it counts: nil means
	// DefaultFailureCodes (unavailable, deadline_exceeded, internal).
	// Other errors are answers of a working remote and count as
	// successes. A call that its deadline, or a [Timeout], ended counts
	// as deadline_exceeded; a call the caller cancelled, or a policy
	// below the breaker refused, counts as neither; a call that panicked
	// below the breaker counts as a failure.
	FailureCodes []netron.Code
	// OnStateChange, when set, is called after each change of state, for
	// metrics or logs, in the order of the changes: calls for one breaker
	// do not overlap. It must not block.
	OnStateChange func(StateChange)
}

// Check reports a value out of range, naming the field; [CircuitBreaker]
// uses the default in its place.
func (c CircuitBreakerConfig) Check() error {
	var errs []error
	if c.Failures < 0 {
		errs = append(errs, fmt.Errorf("Failures %d: want 1 or more (0: %d)", c.Failures, DefaultFailures))
	}
	failures := c.Failures // as CircuitBreaker uses it
	if failures <= 0 {
		failures = DefaultFailures
	}
	if c.Of < 0 || c.Of > 0 && c.Of < failures {
		errs = append(errs, fmt.Errorf("Of %d: want at least Failures (%d), or 0 for consecutive failures", c.Of, failures))
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
	notify func(StateChange) // nil: no one is told
	cb     circuitbreaker.CircuitBreaker[any]

	// mu is held around each use of cb that may change its state (its
	// listener, changed, runs within it), so that the fields below follow
	// the state exactly.
	mu sync.Mutex
	// round counts the changes of state; a half-open probe belongs to
	// the round it was let through in.
	round uint64
	// spare counts the permits of this round's probes that ended as
	// neither success nor failure: failsafe-go frees a permit only with
	// an outcome, so the breaker hands them to the next calls itself.
	spare int
	// changes are the changes of state to report once mu is released.
	changes []StateChange
	// telling is set while a goroutine reports changes: it reports those
	// made meanwhile too, so that they are told in order, one at a time,
	// without mu held.
	telling bool
}

// pass is what the breaker let a call through with.
type pass struct {
	probe bool   // the call is a half-open probe
	round uint64 // of Breaker.round
}

// outcome is what the end of a call tells of the remote.
type outcome int

const (
	failed outcome = iota
	succeeded
	neither
)

// CircuitBreaker returns a circuit breaker configured by cfg. Closed, it
// lets calls through and counts their failures; after cfg.Failures in a
// row (or cfg.Failures of the last cfg.Of) it opens: calls fail at once
// with unavailable, matching [ErrCircuitOpen], with a message naming the breaker, the service and method, and the
// time left ("circuit breaker \"users@^1\" is open: users@^1.get not
// sent; retry after 4.2s"). After cfg.Delay the next call half-opens it
// and goes through as a probe, with up to cfg.Probes in all: if they
// succeed it closes, if one fails it opens again. A call counts only if
// the breaker has not changed state since it let the call through. For a
// stream, the opening counts. Values out of range in cfg take their
// defaults (see [CircuitBreakerConfig.Check]). The breaker is
// failsafe-go's.
func CircuitBreaker(cfg CircuitBreakerConfig) *Breaker {
	b := &Breaker{name: cfg.Name, probes: cfg.Probes, codes: cfg.FailureCodes, notify: cfg.OnStateChange}
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
	b.cb = circuitbreaker.NewBuilder[any]().
		WithFailureThresholdRatio(uint(failures), uint(of)).
		WithDelay(delay).
		WithSuccessThreshold(uint(b.probes)).
		OnStateChanged(b.changed).
		Build()
	return b
}

// changed is cb's listener: it runs within a use of cb, under b.mu.
func (b *Breaker) changed(e circuitbreaker.StateChangedEvent) {
	b.round++
	b.spare = 0 // the permits of the round that ended
	if b.notify != nil {
		b.changes = append(b.changes, StateChange{Breaker: b.name, From: stateOf(e.OldState), To: stateOf(e.NewState)})
	}
}

// unlock releases b.mu, then reports the changes of state made under it,
// unless another goroutine is reporting changes: that one reports them
// after its own, so that a change is never told before an earlier one
// (an opening told after the closing that followed it).
func (b *Breaker) unlock() {
	if b.telling || len(b.changes) == 0 {
		b.mu.Unlock()
		return
	}
	b.telling = true
	told := false
	defer func() {
		if !told { // notify panicked: the next changes are told
			b.mu.Lock()
			b.telling = false
			b.mu.Unlock()
		}
	}()
	for len(b.changes) > 0 {
		changes := b.changes
		b.changes = nil
		b.mu.Unlock()
		for _, c := range changes {
			b.notify(c)
		}
		b.mu.Lock()
	}
	b.telling = false
	told = true
	b.mu.Unlock()
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
		p, ok := b.admit()
		if !ok {
			return nil, b.refuse(call)
		}
		out := failed // what a panic below counts as
		defer func() { b.record(p, out) }()
		res, err := next(ctx, call)
		out = b.judge(ctx, err)
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
		p, ok := b.admit()
		if !ok {
			return nil, b.refuse(call)
		}
		out := failed // what a panic below counts as
		defer func() { b.record(p, out) }()
		s, err := next(ctx, call)
		out = b.judge(ctx, err)
		return s, err
	}
}

// admit takes a permit for a call, or a spare one of a probe that ended
// as neither; it reports false when the breaker refuses the call.
func (b *Breaker) admit() (pass, bool) {
	b.mu.Lock()
	defer b.unlock()
	ok := b.cb.TryAcquirePermit()
	if !ok && b.spare > 0 {
		b.spare--
		ok = true
	}
	return pass{probe: b.cb.IsHalfOpen(), round: b.round}, ok
}

// judge says what a call that ended with err under ctx tells of the
// remote.
func (b *Breaker) judge(ctx context.Context, err error) outcome {
	code := netron.CodeOf(err)
	switch {
	case err == nil:
		return succeeded
	case refused(err):
		return neither
	case ctx.Err() == nil: // the remote's answer
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		// Its deadline, or a Timeout's (which cancels a stream opening
		// with a cause that is one), ended it: the remote was too slow.
		code = netron.CodeDeadlineExceeded
	default:
		return neither // its caller cancelled it
	}
	if slices.Contains(b.codes, code) {
		return failed
	}
	return succeeded
}

// record counts the outcome of a call let through with p. A probe that
// ended as neither gives its permit to the next call, if the round it
// was let through in goes on. Only the outcomes of the calls let through
// in the round that goes on count: while the breaker is half-open, a
// call let through in an earlier round holds none of its probes' permits,
// and failsafe-go would free one for it, letting through a call more than
// Probes; once closed again, the failure of a call let through before the
// breaker opened is of the outage it has seen, and would open it again.
func (b *Breaker) record(p pass, out outcome) {
	b.mu.Lock()
	defer b.unlock()
	switch {
	case p.round != b.round:
	case out == succeeded:
		b.cb.RecordSuccess()
	case out == failed:
		b.cb.RecordFailure()
	case p.probe:
		b.spare++
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
