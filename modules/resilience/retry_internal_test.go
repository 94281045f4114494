package resilience

import (
	"testing"
	"time"
)

// The default backoff is held within a MaxBackoff below it, and one set
// above MaxBackoff raises it; the wait itself, not a timing of calls.
func TestRetryDefaultBackoffWithinMaxBackoff(t *testing.T) {
	for _, c := range []struct {
		in                  RetryConfig
		backoff, maxBackoff time.Duration
	}{
		{RetryConfig{MaxBackoff: time.Millisecond}, time.Millisecond, time.Millisecond},
		{RetryConfig{}, DefaultBackoff, DefaultMaxBackoff},
		{RetryConfig{Backoff: 2 * time.Second}, 2 * time.Second, 2 * time.Second},
		{RetryConfig{Backoff: 5 * time.Millisecond, MaxBackoff: time.Minute}, 5 * time.Millisecond, time.Minute},
	} {
		got := c.in.withDefaults()
		if got.Backoff != c.backoff || got.MaxBackoff != c.maxBackoff {
			t.Errorf("%+v: backoff %v, max %v; want %v, %v", c.in, got.Backoff, got.MaxBackoff, c.backoff, c.maxBackoff)
		}
	}
}
