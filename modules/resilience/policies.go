package resilience

import (
	"context"
	"iter"
	"slices"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Policies are the resilience policies of the calls to one remote
// service, as titan.Remote gathers them from its options. A nil or zero
// field means no such policy.
type Policies struct {
	// Timeout bounds each call, its retries included (see [Timeout]). In
	// Methods, a negative Timeout removes the remote's for that method.
	Timeout time.Duration
	// Retry sends failed calls again (see [Retry]); Attempts 1 in
	// Methods turns the remote's retries off for that method.
	Retry *RetryConfig
	// Bulkhead bounds the calls in flight (see [Bulkhead]).
	Bulkhead *BulkheadConfig
	// CircuitBreaker stops calling a failing remote for a while (see
	// [CircuitBreaker]).
	CircuitBreaker *CircuitBreakerConfig
	// Methods holds the policies of single methods, by wire name. A
	// policy set there replaces the remote's policy of the same kind for
	// that method (a bulkhead or breaker of its own, counted apart from
	// the remote's); the kinds it leaves unset are the remote's, shared
	// with its other methods. Methods of a Methods entry are ignored.
	Methods map[string]Policies
}

// ChainOptions are what [Policies.Interceptors] adds to the policies.
type ChainOptions struct {
	// Idempotent is given to each retry whose RetryConfig has none
	// (titan.Remote gives what its pool learnt from the definition).
	Idempotent func(call *netron.Call) bool
	// OnStateChange is told of each state change of each breaker, after
	// the breaker's own OnStateChange (titan.Remote gives the app's
	// [StateObserver]s).
	OnStateChange func(StateChange)
}

// Interceptors returns the interceptors enforcing p on the calls to the
// remote service name ("users@^1"), outermost first: Timeout, Retry,
// Bulkhead, CircuitBreaker. So the timeout bounds the whole call, a call
// waiting for its next attempt holds no place in the bulkhead, and what
// the bulkhead refuses is no failure for the breaker. Breakers and
// bulkheads without a Name are named name, or name.method for those of
// one method. Each call builds new breakers and bulkheads: give the
// result to one pool or peer.
func (p Policies) Interceptors(name string, o ChainOptions) []netron.Interceptor {
	base := p.build(name, o, set{})
	if len(p.Methods) == 0 {
		return base.chain()
	}
	ms := &methods{rest: base.chain(), by: map[string][]netron.Interceptor{}}
	for m, mp := range p.Methods {
		ms.by[m] = mp.build(name+"."+m, o, base).chain()
	}
	return []netron.Interceptor{ms.interceptor()}
}

// set is one interceptor of each kind, nil where there is none.
type set struct{ timeout, retry, bulkhead, breaker netron.Interceptor }

func (s set) chain() []netron.Interceptor {
	var out []netron.Interceptor
	for _, ic := range []netron.Interceptor{s.timeout, s.retry, s.bulkhead, s.breaker} {
		if ic != nil {
			out = append(out, ic)
		}
	}
	return out
}

// build makes p's interceptors, keeping those of inherit for the kinds p
// does not set.
func (p Policies) build(name string, o ChainOptions, inherit set) set {
	s := inherit
	switch {
	case p.Timeout > 0:
		s.timeout = Timeout(p.Timeout)
	case p.Timeout < 0:
		s.timeout = nil
	}
	if p.Retry != nil {
		rc := *p.Retry
		if rc.Idempotent == nil {
			rc.Idempotent = o.Idempotent
		}
		s.retry = Retry(rc)
		if rc.Attempts == 1 {
			s.retry = nil
		}
	}
	if p.Bulkhead != nil {
		bc := *p.Bulkhead
		if bc.Name == "" {
			bc.Name = name
		}
		s.bulkhead = Bulkhead(bc)
	}
	if p.CircuitBreaker != nil {
		cc := *p.CircuitBreaker
		if cc.Name == "" {
			cc.Name = name
		}
		if own, all := cc.OnStateChange, o.OnStateChange; all != nil {
			cc.OnStateChange = func(c StateChange) {
				if own != nil {
					own(c)
				}
				all(c)
			}
		}
		s.breaker = CircuitBreaker(cc)
	}
	return s
}

// ForMethod returns an interceptor that runs ics (the first outermost) on
// the calls of the method with the given wire name and lets the other
// calls through: the per-method policies of a peer or pool,
// netron.WithInterceptors(resilience.ForMethod("get",
// resilience.Timeout(time.Second))).
func ForMethod(method string, ics ...netron.Interceptor) netron.Interceptor {
	return (&methods{by: map[string][]netron.Interceptor{method: ics}}).interceptor()
}

// methods runs the interceptors of a call's method, else rest.
type methods struct {
	by   map[string][]netron.Interceptor
	rest []netron.Interceptor
}

// borrowingMethods is methods whose interceptors all borrow their Calls.
type borrowingMethods struct{ *methods }

func (borrowingMethods) BorrowsCalls() {}

// interceptor returns ms, marked a CallBorrower when its interceptors are.
func (ms *methods) interceptor() netron.Interceptor {
	all := slices.Clone(ms.rest)
	for _, ics := range ms.by {
		all = append(all, ics...)
	}
	for _, ic := range all {
		if _, ok := ic.(netron.CallBorrower); !ok {
			return ms
		}
	}
	return borrowingMethods{ms}
}

// chains wraps next in ms's interceptors, outermost first: the chain of
// the methods without policies of their own (rest), and one per method
// that has some (by); wrap is one Interceptor method.
func chains[F any](ms *methods, next F, wrap func(netron.Interceptor, F) F) (rest F, by map[string]F) {
	chain := func(ics []netron.Interceptor) F {
		f := next
		for i := len(ics) - 1; i >= 0; i-- {
			f = wrap(ics[i], f)
		}
		return f
	}
	by = make(map[string]F, len(ms.by))
	for m, ics := range ms.by {
		by[m] = chain(ics)
	}
	return chain(ms.rest), by
}

func (ms *methods) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	rest, by := chains(ms, next, netron.Interceptor.WrapUnary)
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if f, ok := by[call.Method]; ok {
			return f(ctx, call)
		}
		return rest(ctx, call)
	}
}

func (ms *methods) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	rest, by := chains(ms, next, netron.Interceptor.WrapStreamingHandler)
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		if f, ok := by[call.Method]; ok {
			return f(ctx, call)
		}
		return rest(ctx, call)
	}
}

func (ms *methods) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	rest, by := chains(ms, next, netron.Interceptor.WrapStreamingClient)
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if f, ok := by[call.Method]; ok {
			return f(ctx, call)
		}
		return rest(ctx, call)
	}
}
