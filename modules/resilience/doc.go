// Package resilience holds the resilience policies of calls to remote
// services: [Retry] (exponential backoff with jitter, idempotent methods
// only unless told otherwise, within the call's deadline),
// [CircuitBreaker] (opens after consecutive failures or a ratio of
// failures, fails calls fast while open, lets probes through half-open),
// [Bulkhead] (a bound on the calls in flight) and [Timeout]. Each is a
// [netron.Interceptor] on the calling side, built on
// github.com/failsafe-go/failsafe-go; on the serving side they let calls
// through untouched.
//
// They go where interceptors go:
//
//   - on a peer of its own: netron.Dial(ctx, addr,
//     netron.WithInterceptors(resilience.CircuitBreaker(...)));
//   - on a pool of instances: netron.WithInterceptors given to
//     [netron.Netron.NewPool], where a retry sends a failed call again to
//     the instance the balancer picks next (the pool's failover);
//   - in a titan app, per remote service and per method:
//     titan.Remote[T]("users@^1", titan.Retry(...),
//     titan.ForMethod("get", titan.Timeout(time.Second))), which builds
//     the interceptors of [Policies] for the remote's pool. Every
//     titan.Remote has the default [Retry] unless told otherwise: its
//     failover.
//
// The order of a chain matters (the first interceptor is the outermost).
// [Policies.Interceptors] puts them in the order that works: Timeout
// (the deadline of the whole call, retries included), Retry, Bulkhead
// (a call waiting for its next attempt holds no place), CircuitBreaker
// (what the bulkhead refuses is not a failure of the remote).
//
// Refusals do not reach the remote: an open breaker answers unavailable
// (matching [ErrCircuitOpen]), a full bulkhead resource_exhausted
// (matching [ErrBulkheadFull]);
// each message names the breaker or bulkhead and the service and method
// refused. [Retry] never sends a refused call again.
//
// Breaker state changes can be watched, for metrics: per breaker with
// [CircuitBreakerConfig].OnStateChange, [Breaker.State] at any time, and
// in a titan app by every [StateObserver] provided to [ObserverGroup]
// (see [AsStateObserver]).
package resilience
