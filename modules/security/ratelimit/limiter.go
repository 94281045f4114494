package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Decision is the outcome of one Allow.
type Decision struct {
	// Allowed reports whether the unit was taken.
	Allowed bool
	// Remaining is the number of units left in the window after this one;
	// 0 when refused.
	Remaining int
	// RetryAfter is, when refused, how long until one unit frees (at least
	// one millisecond); 0 when allowed.
	RetryAfter time.Duration
}

// Limiter takes one unit for key from a limit of n per window.
//
// Implementations are safe for concurrent use. Allow returns an error,
// and a zero Decision, when n or per is invalid (wrapping
// [ErrInvalidLimit]) or when the limiter's store fails.
type Limiter interface {
	Allow(ctx context.Context, key string, n int, per time.Duration) (Decision, error)
}

// ErrInvalidLimit is wrapped by the error Allow returns for n <= 0 or a per
// shorter than a millisecond.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// checkLimit validates n and per and returns per in milliseconds, the unit
// both limiters count time in.
func checkLimit(n int, per time.Duration) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: n is %d, want at least 1", ErrInvalidLimit, n)
	}
	if per < time.Millisecond {
		return 0, fmt.Errorf("%w: per is %v, want at least 1ms", ErrInvalidLimit, per)
	}
	return per.Milliseconds(), nil
}

// decision converts what window.take (or the script) computed into a
// Decision; wait is in milliseconds.
func decision(allowed bool, remaining, wait int64) Decision {
	if allowed {
		return Decision{Allowed: true, Remaining: int(remaining)}
	}
	return Decision{RetryAfter: time.Duration(max(wait, 1)) * time.Millisecond}
}
