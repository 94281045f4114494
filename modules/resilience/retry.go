package resilience

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Defaults of [RetryConfig]: those of the failover of every titan.Remote.
const (
	DefaultAttempts   = 3
	DefaultBackoff    = 25 * time.Millisecond
	DefaultMaxBackoff = time.Second
	DefaultJitter     = 0.2
)

// RetryConfig configures [Retry]. Its zero value is the default retry,
// the failover of titan.Remote: up to 3 attempts, 25ms then 50ms apart
// (±20%), for calls that did not run (any method) and calls of
// idempotent methods that failed unavailable (their connection was lost).
type RetryConfig struct {
	// Attempts bounds the attempts of one call, the first included:
	// 0 means DefaultAttempts (3); 1 sends each call once.
	Attempts int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff: 0 means DefaultBackoff (25ms), or
	// MaxBackoff when that is less; a negative value means no wait (the
	// next attempt at once).
	Backoff time.Duration
	// MaxBackoff bounds the wait between two attempts: 0 means
	// DefaultMaxBackoff (1s).
	MaxBackoff time.Duration
	// Jitter varies each wait at random by up to this fraction of it
	// (0.2: ±20%), so that callers that failed together do not come back
	// together: 0 means DefaultJitter (0.2); a negative value means none.
	Jitter float64
	// Codes are the codes of failures that may be sent again: nil means
	// unavailable alone (the connection was lost, or the server is
	// stopping). A call that did not run ([netron.ErrNotRun]) may be
	// sent again whatever its code and method.
	Codes []netron.Code
	// AnyMethod sends again calls of every method; by default only calls
	// of idempotent methods are (running one twice has the effect of
	// running it once), since a failed call may have run.
	AnyMethod bool
	// Idempotent reports whether the method of call is idempotent. nil
	// means the methods that the service's definition marks idempotent
	// (titan.Idempotent, netron.WithIdempotent), learnt from the first
	// instance that answers a call of the service (one query_interface
	// per service); titan.Remote passes what its pool learnt at start.
	Idempotent func(call *netron.Call) bool
}

// Check reports a value out of range, naming the field; [Retry] uses the
// default in its place.
func (c RetryConfig) Check() error {
	var errs []error
	if c.Attempts < 0 {
		errs = append(errs, fmt.Errorf("Attempts %d: want 1 or more (0: %d)", c.Attempts, DefaultAttempts))
	}
	if c.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("MaxBackoff %v: want a positive duration (0: %v)", c.MaxBackoff, DefaultMaxBackoff))
	}
	if c.Backoff > 0 && c.MaxBackoff > 0 && c.MaxBackoff < c.Backoff {
		errs = append(errs, fmt.Errorf("MaxBackoff %v is less than Backoff %v", c.MaxBackoff, c.Backoff))
	}
	if c.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("Jitter %v: want a fraction below 1 (0: %v)", c.Jitter, DefaultJitter))
	}
	for _, code := range c.Codes {
		if !slices.Contains(netron.Codes, code) {
			errs = append(errs, fmt.Errorf("Codes: %d is no code", code))
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields and replaces bad values.
func (c RetryConfig) withDefaults() RetryConfig {
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Backoff == 0 { // the default, within the MaxBackoff set
		c.Backoff = min(DefaultBackoff, c.MaxBackoff)
	}
	if c.Backoff > c.MaxBackoff {
		c.MaxBackoff = c.Backoff
	}
	if c.Jitter == 0 || c.Jitter >= 1 {
		c.Jitter = DefaultJitter
	}
	if c.Codes == nil {
		c.Codes = []netron.Code{netron.CodeUnavailable}
	}
	return c
}

// Retry returns an interceptor that sends a failed call again, with
// exponential backoff and jitter between attempts, while cfg says it may:
// a call that did not run ([netron.ErrNotRun]) always, a call that failed
// with one of cfg.Codes when its method is idempotent (or cfg.AnyMethod).
// It never sends again a call refused by a [CircuitBreaker] or a
// [Bulkhead], nor a call on a peer that was closed (it does not
// reconnect) or through a closed pool ([netron.ErrClosed]), and never past the call's deadline: when the next attempt
// could not start before it, the last failure is returned at once. In a
// [netron.Pool] each attempt goes to the instance the balancer picks
// then; on one peer, to that peer (a reconnecting peer is given the
// backoff to come back). For a stream it sends the opening again, not
// the items. The first attempt costs nothing more than the call; the
// retry machinery (failsafe-go's RetryPolicy) is built when one fails.
// Values out of range in cfg take their defaults (see
// [RetryConfig.Check]).
func Retry(cfg RetryConfig) netron.Interceptor {
	cfg = cfg.withDefaults()
	return &retry{cfg: cfg}
}

type retry struct {
	cfg    RetryConfig
	learnt sync.Map // service target -> *idempotency, when cfg.Idempotent is nil
}

// idempotency is what a definition says of a service's methods; methods
// is nil while it is being asked.
type idempotency struct {
	methods atomic.Pointer[map[string]bool]
	// refusedUntil (unix nanoseconds) is set when the instance refused to
	// give the definition (permission_denied, not_found, unimplemented,
	// unauthenticated): it is not asked again before then, rather than
	// after every success.
	refusedUntil atomic.Int64
}

// askAgainAfterRefusal is how long a refused definition is not asked for
// again.
const askAgainAfterRefusal = time.Minute

func (*retry) BorrowsCalls() {}

func (r *retry) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() {
			return next(ctx, call)
		}
		own := call.Peer // nil in a pool, which picks a peer for each attempt
		res, err := next(ctx, call)
		if err == nil || r.cfg.Attempts < 2 || !r.retryable(ctx, call, own, err) {
			if err == nil {
				r.learn(ctx, call)
			}
			return res, err
		}
		return r.again(ctx, call, own, err, func() (any, error) { return next(ctx, call) })
	}
}

func (*retry) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

func (r *retry) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		own := call.Peer // nil in a pool, which picks a peer for each attempt
		s, err := next(ctx, call)
		if err == nil || r.cfg.Attempts < 2 || !r.retryable(ctx, call, own, err) {
			if err == nil {
				r.learn(ctx, call)
			}
			return s, err
		}
		res, err := r.again(ctx, call, own, err, func() (any, error) { return next(ctx, call) })
		if err != nil {
			return nil, err
		}
		return res.(*netron.Stream), nil
	}
}

// retryable reports whether a call that failed with err may be sent again;
// own is the peer the call is made on, nil in a pool.
func (r *retry) retryable(ctx context.Context, call *netron.Call, own *netron.Peer, err error) bool {
	switch {
	case err == nil || ctx.Err() != nil || refused(err):
		return false
	case own != nil && closedForGood(own):
		// Its calls fail without being sent (not run) until the retries
		// run out: a closed peer does not reconnect.
		return false
	case errors.Is(err, netron.ErrClosed):
		// A closed pool: no attempt through it can run.
		return false
	case errors.Is(err, netron.ErrNotRun):
		return true
	case !slices.Contains(r.cfg.Codes, netron.CodeOf(err)):
		return false
	}
	return r.cfg.AnyMethod || r.idempotent(call)
}

// again runs attempt until it succeeds, fails in a way that may not be
// retried, or the attempts or the deadline run out; first is the failure
// of the attempt already made.
func (r *retry) again(ctx context.Context, call *netron.Call, own *netron.Peer, first error, attempt func() (any, error)) (any, error) {
	last := first
	outOfTime := false
	// answered is set while the attempt that returned last has no retry
	// scheduled: its answer is the call's, also when ctx ended as it came
	// back (failsafe would report the end of ctx in its place, turning a
	// call that ran into one that failed before it was sent again).
	answered := false
	var answer any
	var answerErr error
	wait, cancel := context.WithCancel(ctx) // what failsafe waits on between attempts
	defer cancel()
	b := retrypolicy.NewBuilder[any]().
		HandleIf(func(_ any, err error) bool { return r.retryable(ctx, call, own, err) }).
		WithMaxAttempts(r.cfg.Attempts).
		ReturnLastFailure().
		OnRetryScheduled(func(e failsafe.ExecutionScheduledEvent[any]) {
			answered = false
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= e.Delay {
				outOfTime = true // the next attempt could not start in time
				cancel()
			}
		})
	if r.cfg.Backoff > 0 {
		b = b.WithBackoff(r.cfg.Backoff, r.cfg.MaxBackoff)
		if r.cfg.Jitter > 0 {
			b = b.WithJitterFactor(r.cfg.Jitter)
		}
	}
	made := false
	res, err := failsafe.With(b.Build()).WithContext(wait).Get(func() (any, error) {
		if !made { // the first attempt, already made
			made = true
			return nil, first
		}
		res, err := attempt()
		answered, answer, answerErr = true, res, err
		if err != nil {
			last = err
		} else {
			r.learn(ctx, call)
		}
		return res, err
	})
	switch {
	case answered:
		return answer, answerErr
	case outOfTime:
		return nil, last
	case ctx.Err() != nil && err != nil && err != last:
		return nil, netron.NewError(netron.CodeOf(ctx.Err()), fmt.Errorf("%s.%s: %w before it could be sent again; the last failure: %v", call.Service, call.Method, ctx.Err(), last))
	}
	return res, err
}

// closedForGood reports whether p was closed, and so will not reconnect.
func closedForGood(p *netron.Peer) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// idempotent reports whether call's method is idempotent.
func (r *retry) idempotent(call *netron.Call) bool {
	if r.cfg.Idempotent != nil {
		return r.cfg.Idempotent(call)
	}
	v, ok := r.learnt.Load(call.Service)
	if !ok {
		return false
	}
	m := v.(*idempotency).methods.Load()
	return m != nil && (*m)[call.Method]
}

// learn asks the instance that answered call which methods of its service
// are idempotent, once per service, when cfg does not say it.
func (r *retry) learn(ctx context.Context, call *netron.Call) {
	if r.cfg.Idempotent != nil || r.cfg.AnyMethod || call.Peer == nil {
		return
	}
	if v, ok := r.learnt.Load(call.Service); ok {
		e := v.(*idempotency)
		until := e.refusedUntil.Load()
		if until == 0 || time.Now().UnixNano() < until || !e.refusedUntil.CompareAndSwap(until, 0) {
			return // learnt, being asked, or refused not long ago
		}
		r.ask(ctx, call, e)
		return
	}
	e := new(idempotency)
	if _, asked := r.learnt.LoadOrStore(call.Service, e); asked {
		return
	}
	r.ask(ctx, call, e)
}

// ask asks the instance that answered call for its service's definition
// and keeps in e which methods are idempotent.
func (r *retry) ask(ctx context.Context, call *netron.Call, e *idempotency) {
	learnt := false
	var err error
	defer func() {
		switch {
		case learnt:
		case err != nil && definitionRefused(err):
			e.refusedUntil.Store(time.Now().Add(askAgainAfterRefusal).UnixNano())
		default: // it failed or panicked
			r.learnt.Delete(call.Service) // asked again after the next success
		}
	}()
	var def *protocol.Definition
	def, err = call.Peer.Definition(ctx, call.Service)
	if err != nil {
		return
	}
	m := netron.IdempotentMethods(def)
	e.methods.Store(&m)
	learnt = true
}

// definitionRefused reports whether err is an instance's refusal to give
// a definition, which asking again at once would not change.
func definitionRefused(err error) bool {
	switch netron.CodeOf(err) {
	case netron.CodePermissionDenied, netron.CodeNotFound, netron.CodeUnimplemented, netron.CodeUnauthenticated:
		return true
	}
	return false
}
