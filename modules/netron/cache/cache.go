// Package cache serves the results of cacheable methods (titan.Cache,
// titan.CacheTTL; [netron.MethodSpec.CacheTTL]) from memory, on otter.
//
// It is an ordinary [netron.Interceptor] written against the engine's
// public call model only. A titan app installs it (innermost but for
// validation, so a cached result was validated when it was made), sized by
// netron.cacheSize; with a bare Netron, give it to [netron.WithInterceptors]
// and close it when the Netron has stopped:
//
//	c := cache.New(10_000)
//	defer c.Close()
//	n, err := netron.New(cfg, log, netron.WithInterceptors(c, validate.New(log)))
//
// A result is kept per service, method, caller ([netron.Call.Identity])
// and encoded arguments, for the method's TTL; errors are not kept. The
// invalidate_cache task ([netron.TaskInvalidateCache]) empties it by
// service pattern ([Cache.Invalidate]).
//
// A result's age is read from the system clock, or from the clock given
// with [WithClock], so that a test can move time on and see results
// expire (titan.WithClock, titantest.Clock).
package cache

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/titanframework/titan/modules/netron"
)

// Cache is the response cache interceptor; see the package doc. Its otter
// cache is made on first use, so a Netron without cacheable methods starts
// no goroutine for it.
type Cache struct {
	size int
	now  func() time.Time // nil: otter's own clock, the system's
	mu   sync.Mutex
	c    atomic.Pointer[otter.Cache[string, entry]]

	hits, misses atomic.Uint64 // calls of cacheable methods (Stats)
}

// Stats are what a [Cache] has served, for metrics (modules/metrics).
type Stats struct {
	// Hits and Misses count the calls of cacheable methods answered from
	// the cache and those that ran the method, since the cache was made.
	Hits, Misses uint64
	// Entries is about how many results the cache holds now.
	Entries int
}

// Stats returns the cache's counts; it is safe for concurrent use.
func (c *Cache) Stats() Stats {
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	if s := c.c.Load(); s != nil {
		st.Entries = s.EstimatedSize()
	}
	return st
}

type entry struct {
	value any
	ttl   time.Duration
}

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

// New returns a cache that keeps at most size results (size < 1 means
// 10,000).
func New(size int, opts ...Option) *Cache {
	if size < 1 {
		size = 10_000
	}
	c := &Cache{size: size}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// clock adapts a reading function to otter's clock: its readings, and no
// ticks, so no clean-up goroutine runs on a clock a test drives.
type clock func() time.Time

func (f clock) NowNano() int64                    { return f().UnixNano() }
func (clock) Tick(time.Duration) <-chan time.Time { return nil }

// store returns the otter cache, making it on first use.
func (c *Cache) store() *otter.Cache[string, entry] {
	if s := c.c.Load(); s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.c.Load(); s != nil {
		return s
	}
	o := &otter.Options[string, entry]{
		MaximumSize: c.size,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, entry]) time.Duration {
			return e.Value.ttl
		}),
	}
	if c.now != nil {
		o.Clock = clock(c.now)
	}
	s, err := otter.New(o)
	if err != nil {
		return nil
	}
	c.c.Store(s)
	return s
}

// Close stops the cache's goroutines, if it started any. The cache keeps
// working (without expiry) for calls that still arrive.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.c.Load(); s != nil {
		s.StopAllGoroutines()
	}
	return nil
}

// Invalidate removes the results of the services whose qualified name
// ("users@1.0.0") or name matches pattern ('*' stands for any run of
// characters, everything else is literal; "" and "*" match every service)
// and returns how many were removed. It implements
// [netron.CacheInvalidator].
func (c *Cache) Invalidate(pattern string) int {
	s := c.c.Load()
	if s == nil {
		return 0
	}
	if pattern == "" || pattern == "*" {
		n := s.EstimatedSize()
		s.InvalidateAll()
		return n
	}
	removed := 0
	for key := range s.Keys() {
		svc, _, _ := strings.Cut(key, "\x00")
		name, _, _ := strings.Cut(svc, "@")
		if wildcardMatch(pattern, svc) || wildcardMatch(pattern, name) {
			if _, ok := s.Invalidate(key); ok {
				removed++
			}
		}
	}
	return removed
}

// wildcardMatch matches s against a pattern in which '*' stands for any
// run of characters and everything else is literal.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// key is service, method, caller identity and the encoded arguments, each
// argument prefixed with its length so that no two argument lists meet.
func key(call *netron.Call, identity string) string {
	var b strings.Builder
	b.WriteString(call.Service)
	b.WriteByte(0)
	b.WriteString(call.Method)
	b.WriteByte(0)
	b.WriteString(identity)
	b.WriteByte(0)
	var l [4]byte
	for _, r := range call.RawArgs() {
		binary.BigEndian.PutUint32(l[:], uint32(len(r)))
		b.Write(l[:])
		b.Write(r)
	}
	return b.String()
}

// WrapUnary implements [netron.Interceptor]: a cacheable method's result
// comes from the cache while it is there.
func (c *Cache) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		spec := call.Spec()
		if spec == nil || spec.CacheTTL() <= 0 {
			return next(ctx, call)
		}
		s := c.store()
		if s == nil {
			return next(ctx, call)
		}
		k := key(call, call.Identity(ctx))
		if e, ok := s.GetIfPresent(k); ok {
			c.hits.Add(1)
			return e.value, nil
		}
		c.misses.Add(1)
		res, err := next(ctx, call)
		if err == nil {
			s.Set(k, entry{value: res, ttl: spec.CacheTTL()})
		}
		return res, err
	}
}

// WrapStreamingHandler implements [netron.Interceptor]: streams are not
// cached.
func (c *Cache) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// BorrowsCalls implements [netron.CallBorrower]: the cache keeps results
// and keys copied from the arguments, never a Call.
func (c *Cache) BorrowsCalls() {}

// WrapStreamingClient implements [netron.Interceptor]: calls made pass
// through.
func (c *Cache) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return next
}
