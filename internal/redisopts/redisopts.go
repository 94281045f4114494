// Package redisopts gives the Redis clients of Titan's modules (discovery,
// the rate limiter's shared backend) the same bounded options, so that a
// Redis out of reach costs a caller about a second, not go-redis's
// defaults: three retries of a command and five of each dial, 1.7 s per
// operation against a server that refuses connections, and a 3 s read
// timeout against one that hangs.
package redisopts

import (
	"net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Timeout is the bound of one step of an operation: a dial, a read, a
// write, the wait for a pooled connection.
const Timeout = time.Second

// Parse returns the client options of a redis:// or rediss:// URL with
// Titan's bounds: dials, reads, writes and the wait for a pooled
// connection time out after [Timeout], a command is retried once (a pooled
// connection may have gone stale when Redis restarted) and a dial is never
// retried; a command also ends at its context's deadline. A bound the URL sets itself (dial_timeout, read_timeout,
// write_timeout, pool_timeout, max_retries) is kept.
func Parse(rawURL string) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	for name, field := range map[string]*time.Duration{
		"dial_timeout": &opts.DialTimeout, "read_timeout": &opts.ReadTimeout,
		"write_timeout": &opts.WriteTimeout, "pool_timeout": &opts.PoolTimeout,
	} {
		if !q.Has(name) {
			*field = Timeout
		}
	}
	if !q.Has("max_retries") {
		opts.MaxRetries = 1
	}
	opts.DialerRetries = 1
	// A caller's deadline bounds its command too: a Redis that hangs
	// costs a stop or a request no more than its context allows.
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
