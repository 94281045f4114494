package cache

import (
	"fmt"
	"time"
)

// Option configures [New].
type Option interface {
	apply(*Cache)
	// String describes the option for diagnostics.
	String() string
}

type option struct {
	desc string
	fn   func(*Cache)
}

func (o option) apply(c *Cache) { o.fn(c) }
func (o option) String() string { return o.desc }

// WithClock makes the cache read the time from now instead of the system
// clock: a result expires when now has moved on by its TTL. A nil now
// means the system clock. With it the cache runs no clean-up goroutine;
// expired results are dropped when they are asked for, or when the cache
// is full. It is meant for tests, with a fake clock whose reading the
// test moves on (titantest.Clock).
func WithClock(now func() time.Time) Option {
	return option{"cache.WithClock(...)", func(c *Cache) { c.now = now }}
}

// WithMaxBytes sets the most memory, in bytes, that the results the cache
// holds take together: their keys (which hold the encoded arguments),
// their values and an estimate of the cache's own bookkeeping for each.
// n < 1 means the default, 64 MiB. A result that would take more than
// n/16 is not kept. The count given to [New] still applies: each result
// counts as at least n/size bytes, so that no more than size are kept.
func WithMaxBytes(n int64) Option {
	return option{fmt.Sprintf("cache.WithMaxBytes(%d)", n), func(c *Cache) {
		if n > 0 {
			c.maxBytes = n
		}
	}}
}
