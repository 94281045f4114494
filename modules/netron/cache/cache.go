package cache

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/titanframework/titan/modules/netron"
)

const (
	defaultSize     = 10_000
	defaultMaxBytes = 64 << 20
	// largestShare: a result that would take more than
	// maxBytes/largestShare is not kept.
	largestShare = 16
)

// Cache is the response cache interceptor; see the package doc. Its otter
// cache is made on first use, so a Netron without cacheable methods starts
// no goroutine for it.
type Cache struct {
	size     int
	maxBytes int64
	now      func() time.Time // nil: otter's own clock, the system's
	mu       sync.Mutex
	closed   bool // Close was called: a store made later stops its goroutines at once
	c        atomic.Pointer[otter.Cache[string, *entry]]

	hits, misses atomic.Uint64 // calls of cacheable methods (Stats)
	bytes        atomic.Int64  // what the entries held take (entry.bytes)
	// invalidations counts the calls of Invalidate, so that a result a
	// method computed across one (from data read before it) is not kept.
	invalidations atomic.Uint64

	fmu     sync.Mutex
	flights map[string]*flight // key -> its run, while one runs (see join)
}

// Stats are what a [Cache] has served, for metrics (modules/metrics).
type Stats struct {
	// Hits and Misses count the calls of cacheable methods answered from
	// the cache (or by the run of another call of the same key they
	// waited for) and those that ran the method (or got the failure of
	// the run they waited for), since the cache was made.
	Hits, Misses uint64
	// Entries is about how many results the cache holds now.
	Entries int
	// Bytes is about how much memory the results the cache holds take,
	// with their keys: what counts against [WithMaxBytes].
	Bytes int64
}

// Stats returns the cache's counts; it is safe for concurrent use.
func (c *Cache) Stats() Stats {
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bytes: max(c.bytes.Load(), 0)}
	if s := c.c.Load(); s != nil {
		st.Entries = s.EstimatedSize()
	}
	return st
}

// New returns a cache that keeps at most size results (size < 1 means
// 10,000), taking at most 64 MiB together unless [WithMaxBytes] says
// otherwise.
func New(size int, opts ...Option) *Cache {
	if size < 1 {
		size = defaultSize
	}
	c := &Cache{size: size, maxBytes: defaultMaxBytes}
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// largest returns the most bytes one entry may take.
func (c *Cache) largest() int {
	return int(min(c.maxBytes/largestShare, math.MaxInt32))
}

// clock adapts a reading function to otter's clock: its readings, and no
// ticks, so no clean-up goroutine runs on a clock a test drives.
type clock func() time.Time

func (f clock) NowNano() int64                    { return f().UnixNano() }
func (clock) Tick(time.Duration) <-chan time.Time { return nil }

// store returns the otter cache, making it on first use. It is bounded by
// weight: an entry weighs what it takes (entry.bytes), and at least the
// budget's share of one of size entries, so that the budget also caps
// their number.
func (c *Cache) store() *otter.Cache[string, *entry] {
	if s := c.c.Load(); s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.c.Load(); s != nil {
		return s
	}
	budget := uint64(c.maxBytes)
	// least is the budget divided among size entries, rounded up.
	least := uint32(min((budget+uint64(c.size)-1)/uint64(c.size), math.MaxUint32))
	o := &otter.Options[string, *entry]{
		MaximumWeight: budget,
		Weigher:       func(_ string, e *entry) uint32 { return max(e.bytes, least) },
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, *entry]) time.Duration {
			return e.Value.ttl
		}),
		// Every entry removed or replaced passes here once, under its
		// bucket's lock; it was counted before it was set.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *entry]) {
			c.bytes.Add(-int64(e.Value.bytes))
		},
	}
	if c.now != nil {
		o.Clock = clock(c.now)
	}
	s, err := otter.New(o)
	if err != nil {
		return nil
	}
	if c.closed {
		// A call that arrives after Close: nothing would stop them.
		s.StopAllGoroutines()
	}
	c.c.Store(s)
	return s
}

// Close stops the cache's goroutines, if it started any. The cache keeps
// working (without expiry) for calls that still arrive.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if s := c.c.Load(); s != nil {
		s.StopAllGoroutines()
	}
	return nil
}

// Invalidate removes the results of the services whose qualified name
// ("users@1.0.0") or name matches pattern ('*' stands for any run of
// characters, everything else is literal; "" and "*" match every service)
// and returns how many were removed. A call of a cacheable method
// running while it is made does not keep its result, which may have been
// read before the change the invalidation is for. It implements
// [netron.CacheInvalidator].
func (c *Cache) Invalidate(pattern string) int {
	// Counted before the results are removed: a call that finds the count
	// unchanged once it has set its result set it before this, so the
	// removal below removes it.
	c.invalidations.Add(1)
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

// WrapUnary implements [netron.Interceptor]: a cacheable method's result
// comes from the cache while it is there, and a call of a key whose
// method is running waits for that run (see the package documentation).
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
		kb := callKey{call: call, identity: call.Identity(ctx)}
		if vary, _ := spec.Policy(VaryByKey).([]string); len(vary) > 0 {
			kb.vary, kb.md = vary, netron.IncomingMetadata(ctx)
		}
		largest := c.largest()
		n := kb.size()
		if n > largest {
			// Too large to keep: not even copied into a key.
			c.misses.Add(1)
			return next(ctx, call)
		}
		k := kb.build(n)
		for {
			if e, ok := s.GetIfPresent(k); ok {
				if v, err := e.result(); err == nil {
					c.hits.Add(1)
					return v, nil
				}
			}
			f, lead := c.join(k)
			if lead {
				return c.run(ctx, call, next, s, k, f, spec.CacheTTL(), largest)
			}
			if err := await(ctx, call, f); err != nil {
				return nil, err
			}
			switch {
			case f.e != nil:
				if v, err := f.e.result(); err == nil {
					c.hits.Add(1)
					return v, nil
				}
			case f.err != nil:
				c.misses.Add(1)
				return nil, f.err
			case f.again:
				continue // wait for, or make, another run
			}
			// A result not kept (too large, not copyable, or made across
			// an Invalidate) is not shared: each caller gets its own.
			c.misses.Add(1)
			return next(ctx, call)
		}
	}
}

// run runs the method for a call of key k that leads flight f, keeps its
// result, and lands f, also when the method panics.
func (c *Cache) run(ctx context.Context, call *netron.Call, next netron.UnaryFunc, s *otter.Cache[string, *entry], k string, f *flight, ttl time.Duration, largest int) (res any, err error) {
	c.misses.Add(1)
	defer c.land(k, f)
	gen := c.invalidations.Load()
	res, err = next(ctx, call)
	switch {
	case err != nil && ctx.Err() != nil:
		f.again = true // the failure may be this caller's alone
	case err != nil:
		f.err = err
	case c.invalidations.Load() == gen:
		if e, ok := keep(res, ttl, len(k), largest); ok {
			c.bytes.Add(int64(e.bytes))
			s.Set(k, e)
			if c.invalidations.Load() != gen {
				// An Invalidate began while it was set and may have
				// missed it: the method may have read what the
				// invalidation was for.
				s.Invalidate(k)
			} else {
				f.e = e
			}
		}
	}
	return res, err
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
