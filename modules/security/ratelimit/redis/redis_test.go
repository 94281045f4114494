package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/security/ratelimit"
	"github.com/titanframework/titan/modules/security/ratelimit/redis"
)

// redisClient returns a client of the test Redis server, closed when the
// test ends.
func redisClient(t testing.TB, url string) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// hammer calls Allow for key from callers goroutines per limiter until d
// has passed, and returns the calls allowed. It fails the test on an
// error.
func hammer(t *testing.T, limiters []ratelimit.Limiter, callers int, key string, n int, per, d time.Duration) int {
	t.Helper()
	var allowed atomic.Int64
	var failure atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range callers {
			wg.Go(func() {
				for time.Now().Before(deadline) {
					dec, err := l.Allow(context.Background(), key, n, per)
					if err != nil {
						failure.CompareAndSwap(nil, err)
						return
					}
					if dec.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	if err, _ := failure.Load().(error); err != nil {
		t.Fatal(err)
	}
	return int(allowed.Load())
}

func TestRedisIsExactAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	prefix := testsrv.RedisPrefix(t, url)
	a := redis.New(redisClient(t, url), prefix)
	b := redis.New(redisClient(t, url), prefix)
	// The hammering lasts 1/30 of the window, as 2s of a minute would: a
	// window that let units free up early would show as well.
	if got := hammer(t, []ratelimit.Limiter{a, b}, 4, "caller", 100, 15*time.Second, 500*time.Millisecond); got != 100 {
		t.Fatalf("two instances, 4 callers each, for 500ms against 100 per 15s: %d allowed, want exactly 100", got)
	}
}

func TestRedisDecisions(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	l := redis.New(redisClient(t, url), testsrv.RedisPrefix(t, url))
	ctx := context.Background()
	for i, want := range []int{1, 0} {
		d, err := l.Allow(ctx, "k", 2, 10*time.Second)
		if err != nil || !d.Allowed || d.Remaining != want || d.RetryAfter != 0 {
			t.Fatalf("call %d: %+v, %v; want allowed with %d remaining", i+1, d, err, want)
		}
	}
	// The two units weigh 2*(10s-e)/10s in the next window: one frees 5s
	// into it, 15s after the window began.
	d, err := l.Allow(ctx, "k", 2, 10*time.Second)
	if err != nil || d.Allowed || d.RetryAfter <= 14*time.Second || d.RetryAfter > 15*time.Second {
		t.Fatalf("third call: %+v, %v; want refused with RetryAfter in (14s, 15s]", d, err)
	}
	if d, err := l.Allow(ctx, "other", 2, 10*time.Second); err != nil || !d.Allowed {
		t.Fatalf("another key: %+v, %v; want allowed", d, err)
	}
}

func TestRedisKeysExpire(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	c := redisClient(t, url)
	prefix := testsrv.RedisPrefix(t, url)
	l := redis.New(c, prefix)
	if _, err := l.Allow(context.Background(), "10.0.0.7:5000", 5, time.Minute); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(context.Background(), prefix+":rl:10.0.0.7:5000").Result()
	if err != nil || ttl <= 0 || ttl > 2*time.Minute {
		t.Fatalf("PTTL %v, %v; want in (0, 2m]", ttl, err)
	}
}

func TestRedisUnreachableIsAnError(t *testing.T) {
	t.Parallel()
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	l := redis.New(c, "unreachable")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	d, err := l.Allow(ctx, "k", 10, time.Minute)
	if took := time.Since(start); took > time.Second {
		t.Errorf("Allow took %v with Redis unreachable, want under 1s", took)
	}
	if err == nil || !strings.Contains(err.Error(), "redis") || !strings.Contains(err.Error(), "EVALSHA") {
		t.Fatalf("got %+v, %v; want an error naming Redis and the operation", d, err)
	}
	if d != (ratelimit.Decision{}) {
		t.Fatalf("got %+v with the error, want a zero Decision", d)
	}
}

func TestRedisWithoutClientIsAnError(t *testing.T) {
	t.Parallel()
	if _, err := redis.New(nil, "p").Allow(context.Background(), "k", 1, time.Second); err == nil {
		t.Fatal("no error from a limiter without a client")
	}
}

func TestRedisBadLimit(t *testing.T) {
	t.Parallel()
	l := redis.New(nil, "never-contacted")
	for _, tc := range []struct {
		n    int
		per  time.Duration
		want string
	}{
		{0, time.Second, "n is 0"},
		{1, 500 * time.Microsecond, "per is 500µs"},
	} {
		d, err := l.Allow(context.Background(), "k", tc.n, tc.per)
		if !errors.Is(err, ratelimit.ErrInvalidLimit) || !strings.Contains(err.Error(), tc.want) || d != (ratelimit.Decision{}) {
			t.Fatalf("%d per %v: got %+v, %v; want a zero Decision and an ErrInvalidLimit naming %q", tc.n, tc.per, d, err, tc.want)
		}
	}
}

func TestBackendIsRegistered(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	prefix := testsrv.RedisPrefix(t, url)
	l, closer, err := ratelimit.OpenBackend(context.Background(), "redis", url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	if _, ok := l.(*redis.Limiter); !ok {
		t.Fatalf("the redis backend opened a %T, want *redis.Limiter", l)
	}
	if d, err := l.Allow(context.Background(), "k", 1, time.Minute); err != nil || !d.Allowed {
		t.Fatalf("first call: %+v, %v; want allowed", d, err)
	}
}

func TestBackendBadURLIsAnError(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"memcached://127.0.0.1:11211", "redis://127.0.0.1:6379/notadb", "://"} {
		l, closer, err := ratelimit.OpenBackend(context.Background(), "redis", url, "p")
		if !errors.Is(err, ratelimit.ErrInvalidURL) || !strings.Contains(err.Error(), fmt.Sprintf("%q", url)) || l != nil || closer != nil {
			t.Errorf("URL %q: got %v, %v, %v; want only an ErrInvalidURL naming the URL", url, l, closer, err)
		}
	}
}

// The error of a URL the backend cannot use names the URL without its
// password, which would reach the start-up error and the logs: the URL
// redacted as net/url does, also when it does not parse.
func TestBackendBadURLHidesThePassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ url, shown string }{
		{"redis://user:s3cret@127.0.0.1:6379/notadb", "redis://user:xxxxx@127.0.0.1:6379/notadb"},
		{"redis://:s3cret@127.0.0.1:6379/0?dial_timeout=soon", "redis://:xxxxx@127.0.0.1:6379/0?dial_timeout=soon"},
		{"redis://user:s3cret@127.0.0.1:port/0", "redis://user:xxxxx@127.0.0.1:port/0"},
		{"redis://user:s3c@ret@127.0.0.1:port/0", "redis://user:xxxxx@127.0.0.1:port/0"},
	} {
		_, _, err := ratelimit.OpenBackend(context.Background(), "redis", c.url, "p")
		if !errors.Is(err, ratelimit.ErrInvalidURL) || strings.Contains(err.Error(), "s3c") || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.shown)) {
			t.Errorf("URL %q: %v; want an ErrInvalidURL naming %q, without the password", c.url, err, c.shown)
		}
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	url := testsrv.Redis(b)
	c := redisClient(b, url)
	l := redis.New(c, testsrv.RedisPrefix(b, url))
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Allow(ctx, "serial", 1<<30, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if _, err := l.Allow(ctx, fmt.Sprint("parallel-", i%64), 1<<30, time.Minute); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
