package netron

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// resultCache keeps the results of cacheable methods (titan.Cache,
// titan.CacheTTL) on otter. It is created on first use, so a Netron
// without cached methods starts no cache goroutine.
type resultCache struct {
	size int
	mu   sync.Mutex
	c    atomic.Pointer[otter.Cache[string, cached]]
}

type cached struct {
	value any
	ttl   time.Duration
}

func newResultCache(size int) *resultCache { return &resultCache{size: size} }

// cache returns the cache, creating it on first use.
func (rc *resultCache) cache() *otter.Cache[string, cached] {
	if c := rc.c.Load(); c != nil {
		return c
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c := rc.c.Load(); c != nil {
		return c
	}
	c, err := otter.New(&otter.Options[string, cached]{
		MaximumSize: rc.size,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, cached]) time.Duration {
			return e.Value.ttl
		}),
	})
	if err != nil {
		return nil
	}
	rc.c.Store(c)
	return c
}

// stop ends the cache's goroutine, if the cache was created.
func (rc *resultCache) stop() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if c := rc.c.Load(); c != nil {
		c.StopAllGoroutines()
	}
}

// invalidate removes the entries of services whose qualified name matches
// pattern ("*" matches any run of characters; "" matches everything) and
// returns how many were removed.
func (rc *resultCache) invalidate(pattern string) int {
	c := rc.c.Load()
	if c == nil {
		return 0
	}
	if pattern == "" || pattern == "*" {
		n := c.EstimatedSize()
		c.InvalidateAll()
		return n
	}
	removed := 0
	for key := range c.Keys() {
		svc, _, _ := strings.Cut(key, "\x00")
		if wildcardMatch(pattern, svc) || wildcardMatch(pattern, strings.SplitN(svc, "@", 2)[0]) {
			if _, ok := c.Invalidate(key); ok {
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

// IdentityFunc returns the identity of the caller of a call being served,
// for keys that must differ per caller (the response cache). The security
// module sets it; without it every caller shares cached results.
type IdentityFunc func(ctx context.Context) string

// cacheKey is service, method, caller identity and the encoded arguments.
func cacheKey(call *Call, identity string) string {
	var b strings.Builder
	b.WriteString(call.Service)
	b.WriteByte(0)
	b.WriteString(call.Method)
	b.WriteByte(0)
	b.WriteString(identity)
	b.WriteByte(0)
	var l [4]byte
	for _, r := range call.raw {
		binary.BigEndian.PutUint32(l[:], uint32(len(r)))
		b.Write(l[:])
		b.Write(r)
	}
	return b.String()
}

// cacheInterceptor serves cacheable unary methods from the result cache.
type cacheInterceptor struct {
	rc       *resultCache
	identity IdentityFunc
}

func (ci cacheInterceptor) WrapUnary(next UnaryFunc) UnaryFunc {
	return func(ctx context.Context, call *Call) (any, error) {
		if call.client || call.m == nil || call.m.cacheTTL <= 0 {
			return next(ctx, call)
		}
		id := ""
		if ci.identity != nil {
			id = ci.identity(ctx)
		}
		key := cacheKey(call, id)
		c := ci.rc.cache()
		if c == nil {
			return next(ctx, call)
		}
		if v, ok := c.GetIfPresent(key); ok {
			return v.value, nil
		}
		res, err := next(ctx, call)
		if err == nil {
			c.Set(key, cached{value: res, ttl: call.m.cacheTTL})
		}
		return res, err
	}
}

func (ci cacheInterceptor) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return next
}

func (ci cacheInterceptor) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return next
}
