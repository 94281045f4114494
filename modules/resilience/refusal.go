package resilience

import "errors"

// Errors matched (errors.Is) by the calls a policy refused without
// sending them. They do not match [netron.ErrNotRun]: the policy is the
// remote's, so another instance would be refused too, and a service
// method that returns the error did run.
var (
	// ErrCircuitOpen is matched by a call an open (or saturated
	// half-open) circuit breaker refused; its code is unavailable.
	ErrCircuitOpen = errors.New("circuit breaker open")
	// ErrBulkheadFull is matched by a call a full bulkhead refused; its
	// code is resource_exhausted.
	ErrBulkheadFull = errors.New("bulkhead full")
)

// refusal is the message of a refused call: it matches its kind
// (ErrCircuitOpen, ErrBulkheadFull).
type refusal struct {
	msg  string
	kind error
}

func (r *refusal) Error() string { return r.msg }

func (r *refusal) Is(target error) bool { return target == r.kind }

// refused reports whether err is a refusal of a policy.
func refused(err error) bool {
	return errors.Is(err, ErrCircuitOpen) || errors.Is(err, ErrBulkheadFull)
}
