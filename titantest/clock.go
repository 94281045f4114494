package titantest

import (
	"sync"
	"time"
)

// Clock is a fake clock that moves only when the test says. Give its Now
// to titan.WithClock (an app's response cache and in-process rate
// limiter) or to cache.WithClock and ratelimit.LocalOptions.Now; then
// [Clock.Advance] expires cached results and slides rate-limit windows
// without waiting. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start; a zero start means
// 2026-01-01 00:00:00 UTC.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return &Clock{now: start}
}

// Now returns the clock's reading.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new reading; a negative
// d moves it back, as a system clock can be set back.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
