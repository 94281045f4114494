package titan

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/resilience"
)

// CallPolicy is a resilience policy of the calls of a [Remote]: [Retry],
// [CircuitBreaker], [Bulkhead], [BulkheadWait] or [Timeout]. Given to
// Remote it covers every method of the remote service, its state (a
// breaker's count, a bulkhead's places) shared by them; given to
// [ForMethod], one method, in place of the remote's policy of the same
// kind:
//
//	titan.Remote[UsersClient]("users@^1",
//		titan.Timeout(2*time.Second),
//		titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 5, Delay: 10 * time.Second}),
//		titan.ForMethod("search", titan.Timeout(10*time.Second), titan.Bulkhead(4)),
//	)
//
// A remote has one policy of each kind, and a method one of each in
// place of the remote's: two of a kind with different values (Timeout(1s)
// and Timeout(2s), Bulkhead and BulkheadWait) fail building the app with
// an error that names both; the same option twice is accepted.
//
// Whatever the order of the options, a call goes through the timeout,
// then the retries, then the bulkhead, then the breaker, then to the
// instance the balancer picks (resilience.Policies). The policies are
// the interceptors of package modules/resilience, which also serve
// programs without fx: given to netron.Dial or netron's Netron.NewPool
// (they are netron.ClientOptions), each policy is its interceptors, in the
// order of the options.
type CallPolicy interface {
	ClientOption
	applyPolicy(*resilience.Policies)
}

// RetryConfig configures [Retry]; its zero value is the default retry
// (resilience.RetryConfig).
type RetryConfig = resilience.RetryConfig

// CircuitBreakerConfig configures [CircuitBreaker]; its zero value opens
// after 5 consecutive failures for 5s (resilience.CircuitBreakerConfig).
type CircuitBreakerConfig = resilience.CircuitBreakerConfig

// callPolicy is a CallPolicy: what Remote gathers into its policies, and
// for the clients that take it alone, the netron client option that
// builds its interceptors.
type callPolicy struct {
	netron.ClientOption
	kind string // what it sets: "timeout", "retry", "circuit breaker", "bulkhead"
	err  error  // a bad value, reported by every client
	fn   func(*resilience.Policies)
}

func newCallPolicy(kind, desc string, err error, fn func(*resilience.Policies)) callPolicy {
	return callPolicy{
		ClientOption: netron.WithClientInterceptors(desc, err, func(ci netron.ClientInfo) []netron.Interceptor {
			var ps resilience.Policies
			fn(&ps)
			return ps.Interceptors(ci.Target, resilience.ChainOptions{Idempotent: idempotent(ci)})
		}),
		kind: kind, err: err, fn: fn,
	}
}

// policyKinds records the CallPolicy options of a remote, or of one of
// its methods, by kind, to refuse two of a kind: a remote has one
// timeout, one retry, one breaker and one bulkhead (per method, one of
// each in place of the remote's).
type policyKinds map[string]string

// add records the policy desc of kind and returns the error of a policy
// of the same kind with another value recorded before, nil if none. of
// is what has one of each ("a remote", "method \"get\"").
func (k policyKinds) add(kind, desc, of string) error {
	prev, ok := k[kind]
	switch {
	case !ok:
		k[kind] = desc
		return nil
	case prev == desc: // the same value twice
		return nil
	}
	return fmt.Errorf("%s conflicts with %s: %s has one %s", desc, prev, of, kind)
}

func (p callPolicy) applyPolicy(ps *resilience.Policies) { p.fn(ps) }

// idempotent is what a client knows of its methods' idempotence, for
// resilience.ChainOptions: nil (the retry learns it) when it knows
// nothing.
func idempotent(ci netron.ClientInfo) func(*netron.Call) bool {
	if ci.Idempotent == nil {
		return nil
	}
	return func(c *netron.Call) bool { return ci.Idempotent(c.Method) }
}

// Retry sends failed calls of a remote again, with exponential backoff
// and jitter, within the call's deadline: calls that did not run (any
// method), and calls of the methods marked [Idempotent] that failed
// unavailable — of any method with cfg.AnyMethod. Each attempt goes to
// the instance the balancer picks then. Every Remote has the default
// retry, titan.Retry(titan.RetryConfig{}) — up to 3 attempts, 25ms then
// 50ms apart (±20%) —, which is its failover;
// titan.Retry(titan.RetryConfig{Attempts: 1}) turns it off (for a
// method, in [ForMethod]). See resilience.Retry.
func Retry(cfg RetryConfig) CallPolicy {
	return newCallPolicy("retry", "Retry("+fields(cfg)+")", cfg.Check(), func(ps *resilience.Policies) { ps.Retry = &cfg })
}

// CircuitBreaker stops calling a remote (or a method, in [ForMethod])
// that keeps failing: after cfg.Failures failures in a row (or
// cfg.Failures of the last cfg.Of calls) calls fail at once with
// unavailable and a message naming the breaker ("circuit breaker
// \"users@^1\" is open: users@^1.get not sent; retry after 4.2s");
// after cfg.Delay a probe goes through, and its success closes the
// breaker. Breakers are named after the remote's target, or
// target.method for one method; their state changes are logged and told
// to the app's resilience.StateObservers (metrics). See
// resilience.CircuitBreaker.
func CircuitBreaker(cfg CircuitBreakerConfig) CallPolicy {
	return newCallPolicy("circuit breaker", "CircuitBreaker("+fields(cfg)+")", cfg.Check(), func(ps *resilience.Policies) { ps.CircuitBreaker = &cfg })
}

// Bulkhead lets at most n calls of a remote (or of a method, in
// [ForMethod]) be in flight at once; the next one is refused at once with
// resource_exhausted, naming the bulkhead and n. See [BulkheadWait].
func Bulkhead(n int) CallPolicy { return bulkhead(fmt.Sprintf("Bulkhead(%d)", n), n, 0) }

// BulkheadWait is [Bulkhead] where a call that finds the n places taken
// waits up to maxWait for one before it is refused.
func BulkheadWait(n int, maxWait time.Duration) CallPolicy {
	return bulkhead(fmt.Sprintf("BulkheadWait(%d, %v)", n, maxWait), n, maxWait)
}

func bulkhead(desc string, n int, wait time.Duration) CallPolicy {
	cfg := resilience.BulkheadConfig{Max: n, MaxWait: wait}
	return newCallPolicy("bulkhead", desc, cfg.Check(), func(ps *resilience.Policies) { ps.Bulkhead = &cfg })
}

// Timeout gives each call of a remote (or of a method, in [ForMethod]) at
// most d, its retries included; a call that runs out of it fails with
// deadline_exceeded naming the service, method and d. A deadline of the
// caller's that is sooner stays; Go servers are told the deadline and
// cancel the method when it passes. For a stream method d bounds the
// opening. In ForMethod, a negative d removes the remote's timeout for
// the method; anywhere else it is refused, as 0 is.
func Timeout(d time.Duration) CallPolicy {
	var err, alone error // alone: an error outside ForMethod only
	switch {
	case d == 0:
		err = errors.New("want a positive duration (a negative one, in ForMethod, removes the remote's timeout)")
	case d < 0:
		alone = errors.New("want a positive duration (a negative one removes the remote's timeout for one method: give it to ForMethod)")
	}
	p := newCallPolicy("timeout", fmt.Sprintf("Timeout(%v)", d), cmp.Or(err, alone), func(ps *resilience.Policies) { ps.Timeout = d })
	p.err = err // what ForMethod reports
	return p
}

// ForMethod applies policies to the calls of one method of a [Remote],
// by wire name, in place of the remote's policies of the same kinds:
// titan.ForMethod("get", titan.Timeout(time.Second)). A method that the
// client type has no field for fails start-up.
func ForMethod(method string, policies ...CallPolicy) ClientOption {
	descs := make([]string, len(policies))
	var errs []error
	kinds := policyKinds{}
	for i, p := range policies {
		if p == nil {
			descs[i] = "nil"
			errs = append(errs, fmt.Errorf("policy %d is nil", i+1))
			continue
		}
		descs[i] = p.String()
		cp, ok := p.(callPolicy)
		if ok && cp.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, cp.err))
		}
		if ok {
			errs = append(errs, kinds.add(cp.kind, descs[i], fmt.Sprintf("method %q", method)))
		}
	}
	desc := fmt.Sprintf("ForMethod(%q%s)", method, strings.Join(append([]string{""}, descs...), ", "))
	o := forMethodOption{method: method, policies: policies}
	o.ClientOption = netron.WithClientInterceptors(desc, errors.Join(errs...), func(ci netron.ClientInfo) []netron.Interceptor {
		var ps resilience.Policies
		o.apply(&ps)
		return ps.Interceptors(ci.Target, resilience.ChainOptions{Idempotent: idempotent(ci)})
	})
	return o
}

// forMethodOption is ForMethod's option.
type forMethodOption struct {
	netron.ClientOption
	method   string
	policies []CallPolicy
}

// apply adds the method's policies to ps (those with bad values are
// reported by the option).
func (o forMethodOption) apply(ps *resilience.Policies) {
	mp := ps.Methods[o.method]
	for _, p := range o.policies {
		if cp, ok := p.(callPolicy); p == nil || ok && cp.err != nil {
			continue
		}
		p.applyPolicy(&mp)
	}
	if ps.Methods == nil {
		ps.Methods = map[string]resilience.Policies{}
	}
	ps.Methods[o.method] = mp
}

// methodConflicts records the policies of o in seen, by method, and
// returns the conflicts of o's policies with those of the ForMethod
// options of the same method before it (o reports its own).
func methodConflicts(seen map[string]policyKinds, o forMethodOption) []error {
	before := seen[o.method]
	if before == nil {
		before = policyKinds{}
		seen[o.method] = before
	}
	of := fmt.Sprintf("method %q", o.method)
	mine := policyKinds{}
	var errs []error
	for _, p := range o.policies {
		cp, ok := p.(callPolicy)
		if !ok {
			continue
		}
		if prev, ok := before[cp.kind]; ok {
			errs = append(errs, policyKinds{cp.kind: prev}.add(cp.kind, cp.String(), of))
			continue
		}
		_ = mine.add(cp.kind, cp.String(), of) // o reports its own conflicts
	}
	for kind, desc := range mine {
		before[kind] = desc
	}
	return errs
}

// forMethod is a method named by ForMethod, checked against the client.
type forMethod struct{ method, desc string }

// checkMethods reports the ForMethod options that name a method client
// type t has no field for.
func checkMethods(t reflect.Type, fms []forMethod) error {
	if t.Kind() != reflect.Struct {
		return nil // Bind says what is wrong with t
	}
	have := map[string]bool{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("netron")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = netron.WireName(f.Name)
		}
		have[name] = true
		names = append(names, name)
	}
	var errs []error
	for _, fm := range fms {
		if !have[fm.method] {
			errs = append(errs, fmt.Errorf("%s: %s has no field for a method %q (its methods: %s)", fm.desc, t, fm.method, strings.Join(names, ", ")))
		}
	}
	return errors.Join(errs...)
}

// fields describes the fields of a config struct that are set, as Go
// writes them: "Attempts: 5, AnyMethod: true".
func fields(cfg any) string {
	v := reflect.ValueOf(cfg)
	var out []string
	for i := range v.NumField() {
		f := v.Field(i)
		if f.IsZero() {
			continue
		}
		var s string
		switch f.Kind() {
		case reflect.Func:
			s = "func"
		case reflect.String:
			s = fmt.Sprintf("%q", f.Interface())
		default:
			s = fmt.Sprint(f.Interface())
		}
		out = append(out, v.Type().Field(i).Name+": "+s)
	}
	return strings.Join(out, ", ")
}
