package devui

import "time"

// WithFeedTimeouts sets the event feed's idle bound, ping interval and
// bound of the write of a message (FeedIdleTimeout, FeedPingInterval,
// writeTimeout), shorter for the tests; 0 keeps one.
func WithFeedTimeouts(idle, ping, write time.Duration) Option {
	return option{"WithFeedTimeouts(…)", func(c *handlerConfig) {
		for _, x := range []struct {
			to *time.Duration
			d  time.Duration
		}{{&c.feedIdle, idle}, {&c.feedPing, ping}, {&c.feedWrite, write}} {
			if x.d > 0 {
				*x.to = x.d
			}
		}
	}}
}
