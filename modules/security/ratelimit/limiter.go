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

// ErrInvalidLimit is wrapped by the error Allow returns for n <= 0, a per
// shorter than a millisecond, or n times per in milliseconds of 2^53 or
// more.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// maxExact bounds n times per in milliseconds (below it) for a limit's
// float64 arithmetic, Local's and the redis backend's Lua, to be exact.
const maxExact = 1 << 53

// CheckLimit validates the n and per of an Allow and returns per in whole
// milliseconds, the unit limiters count time in. For n <= 0, a per
// shorter than a millisecond, or n times per in milliseconds of 2^53 or
// more (beyond which decisions lose precision) it returns an
// error wrapping [ErrInvalidLimit]. It is for implementations of
// [Limiter], which call it first in Allow.
func CheckLimit(n int, per time.Duration) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("%w: n is %d, want at least 1", ErrInvalidLimit, n)
	}
	if per < time.Millisecond {
		return 0, fmt.Errorf("%w: per is %v, want at least 1ms", ErrInvalidLimit, per)
	}
	perMS := per.Milliseconds()
	if int64(n) > (maxExact-1)/perMS { // divided: n*perMS may overflow int64
		return 0, fmt.Errorf("%w: n × per is %d × %d ms, want less than 2^53", ErrInvalidLimit, n, perMS)
	}
	return perMS, nil
}

// NewDecision returns the Decision of a call the sliding-window arithmetic
// (see the package documentation) decided: allowed, the units remaining
// after it, and, when refused, wait, the milliseconds until one unit
// frees. A refusal's RetryAfter is at least one millisecond; an allowed
// call's is 0, a refused call's Remaining 0. It is for implementations of
// [Limiter] that compute the arithmetic elsewhere, such as in a script.
func NewDecision(allowed bool, remaining, wait int64) Decision {
	if allowed {
		return Decision{Allowed: true, Remaining: int(remaining)}
	}
	return Decision{RetryAfter: time.Duration(max(wait, 1)) * time.Millisecond}
}
