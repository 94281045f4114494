package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/ratelimit"
)

// clock is a fake clock for LocalOptions.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hammer calls Allow for key from callers goroutines per limiter until d
// has passed, and returns the calls allowed. It fails the test on an
// error, or on a refusal whose RetryAfter is not in (0, 2*per].
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
					switch {
					case err != nil:
						failure.CompareAndSwap(nil, err)
						return
					case dec.Allowed:
						allowed.Add(1)
					case dec.RetryAfter <= 0 || dec.RetryAfter > 2*per:
						failure.CompareAndSwap(nil, fmt.Errorf("refused with RetryAfter %v, want in (0, %v]", dec.RetryAfter, 2*per))
						return
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

func TestLocalIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{})
	// The hammering lasts 1/30 of the window, as 2s of a minute would: a
	// window that let units free up early would show as well.
	if got := hammer(t, []ratelimit.Limiter{l}, 8, "caller", 100, 15*time.Second, 500*time.Millisecond); got != 100 {
		t.Fatalf("8 callers for 500ms against 100 per 15s: %d allowed, want exactly 100", got)
	}
}

func TestLocalSlides(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
	burst := func() int {
		n := 0
		for {
			d, err := l.Allow(context.Background(), "k", 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allowed {
				return n
			}
			n++
		}
	}
	if got := burst(); got != 100 {
		t.Fatalf("first window: %d allowed, want 100", got)
	}
	c.Advance(time.Minute) // the previous window still weighs fully
	if got := burst(); got != 0 {
		t.Fatalf("at the start of the second window: %d allowed, want 0", got)
	}
	c.Advance(30 * time.Second) // half of the previous window still counts
	if got := burst(); got != 50 {
		t.Fatalf("half-way through the second window: %d allowed, want 50", got)
	}
	c.Advance(2 * time.Minute) // both windows are over
	if got := burst(); got != 100 {
		t.Fatalf("two windows later: %d allowed, want 100", got)
	}
}

func TestLocalRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		n     int
		per   time.Duration
		calls int           // allowed calls at the start
		later time.Duration // when the refused call comes
		want  time.Duration
	}{
		// Nothing frees in the current window; in the next one the 10
		// units weigh 10*(10s-1s)/10s = 9 after 1s.
		{"full window", 10, 10 * time.Second, 10, time.Second, 10 * time.Second},
		// One unit a second: the unit taken keeps weighing until the end of
		// the next window.
		{"one per second", 1, time.Second, 1, 0, 2 * time.Second},
		// 100 in the previous window weigh 99 after 600ms of this one.
		{"previous window", 100, time.Minute, 100, time.Minute, 600 * time.Millisecond},
		// 1000 in the previous window weigh 999 after 1ms of this one.
		{"one millisecond", 1000, time.Second, 1000, time.Second, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
			ctx := context.Background()
			for i := range tc.calls {
				if d, err := l.Allow(ctx, "k", tc.n, tc.per); err != nil || !d.Allowed {
					t.Fatalf("call %d: %+v, %v; want allowed", i+1, d, err)
				}
			}
			c.Advance(tc.later)
			d, err := l.Allow(ctx, "k", tc.n, tc.per)
			if err != nil || d.Allowed || d.Remaining != 0 || d.RetryAfter != tc.want {
				t.Fatalf("got %+v, %v; want refused with RetryAfter %v", d, err, tc.want)
			}
		})
	}
}

// TestLocalDecisionsHold checks, over random traffic, that a refused call
// passes exactly RetryAfter later and not a millisecond sooner, and that
// exactly Remaining more calls pass at the instant of an allowed one.
func TestLocalDecisionsHold(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		c := newClock()
		l := ratelimit.NewLocal(ratelimit.LocalOptions{Now: c.Now})
		n := 1 + r.IntN(20)
		per := time.Duration(1+r.IntN(5000)) * time.Millisecond
		allow := func() ratelimit.Decision {
			d, err := l.Allow(context.Background(), "k", n, per)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		for step := range 50 {
			c.Advance(time.Duration(r.Int64N(int64(per))))
			d := allow()
			if d.Allowed {
				for i := range d.Remaining {
					if e := allow(); !e.Allowed || e.Remaining != d.Remaining-1-i {
						t.Fatalf("round %d step %d (%d per %v): after Remaining %d, call %d got %+v", round, step, n, per, d.Remaining, i+1, e)
					}
				}
				if e := allow(); e.Allowed {
					t.Fatalf("round %d step %d (%d per %v): call past Remaining allowed", round, step, n, per)
				}
				continue
			}
			if d.RetryAfter > time.Millisecond {
				c.Advance(d.RetryAfter - time.Millisecond)
				if e := allow(); e.Allowed {
					t.Fatalf("round %d step %d (%d per %v): allowed 1ms before RetryAfter %v", round, step, n, per, d.RetryAfter)
				}
				c.Advance(time.Millisecond)
			} else {
				c.Advance(d.RetryAfter)
			}
			if e := allow(); !e.Allowed {
				t.Fatalf("round %d step %d (%d per %v): refused at RetryAfter %v: %+v", round, step, n, per, d.RetryAfter, e)
			}
		}
	}
}

func TestLocalKeysAreIndependent(t *testing.T) {
	t.Parallel()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{Now: newClock().Now})
	ctx := context.Background()
	for _, key := range []string{"a", "b"} {
		if d, _ := l.Allow(ctx, key, 1, time.Minute); !d.Allowed {
			t.Fatalf("first call of %s refused", key)
		}
	}
	if d, _ := l.Allow(ctx, "a", 1, time.Minute); d.Allowed {
		t.Fatal("second call of a allowed")
	}
}

func TestBadLimit(t *testing.T) {
	t.Parallel()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{})
	for _, tc := range []struct {
		n    int
		per  time.Duration
		want string
	}{
		{0, time.Second, "n is 0"},
		{-3, time.Second, "n is -3"},
		{1, 0, "per is 0s"},
		{1, -time.Second, "per is -1s"},
		{1, 500 * time.Microsecond, "per is 500µs"},
		{1 << 53, time.Millisecond, "n × per is 9007199254740992 × 1 ms"},
		{1 << 40, 8192 * time.Millisecond, "n × per is 1099511627776 × 8192 ms"},
		{1 << 62, time.Hour, "n × per is 4611686018427387904 × 3600000 ms"},
	} {
		t.Run(fmt.Sprintf("%d per %v", tc.n, tc.per), func(t *testing.T) {
			d, err := l.Allow(context.Background(), "k", tc.n, tc.per)
			if !errors.Is(err, ratelimit.ErrInvalidLimit) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an ErrInvalidLimit naming %q", err, tc.want)
			}
			if d != (ratelimit.Decision{}) {
				t.Fatalf("got %+v with the error, want a zero Decision", d)
			}
		})
	}
}

func TestLocalFloodStaysBounded(t *testing.T) {
	t.Parallel()
	const maxKeys = 1000
	c := newClock()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{MaxKeys: maxKeys, Now: c.Now})
	ctx := context.Background()
	for i := range 10 * maxKeys {
		if _, err := l.Allow(ctx, fmt.Sprintf("10.%d.%d.%d:443", i>>16, i>>8&255, i&255), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			c.Advance(time.Millisecond)
			if got := l.Len(); got > maxKeys {
				t.Fatalf("after %d distinct keys, %d held; want at most %d", i+1, got, maxKeys)
			}
		}
	}
	if got := l.Len(); got > maxKeys || got < maxKeys/2 {
		t.Fatalf("after %d distinct keys, %d held; want at most %d (and most of them used)", 10*maxKeys, got, maxKeys)
	}
}

func TestLocalDefaultsMaxKeys(t *testing.T) {
	t.Parallel()
	l := ratelimit.NewLocal(ratelimit.LocalOptions{MaxKeys: -1})
	ctx := context.Background()
	for i := range ratelimit.DefaultMaxKeys + 5000 {
		if _, err := l.Allow(ctx, fmt.Sprint(i), 10, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.Len(); got > ratelimit.DefaultMaxKeys {
		t.Fatalf("%d keys held, want at most %d", got, ratelimit.DefaultMaxKeys)
	}
}

func TestLocalAllowOfAHeldKeyDoesNotAllocate(t *testing.T) {
	l := ratelimit.NewLocal(ratelimit.LocalOptions{})
	ctx := context.Background()
	key := strings.Repeat("k", 40)
	if allocs := testing.AllocsPerRun(1000, func() { _, _ = l.Allow(ctx, key, 1<<30, time.Minute) }); allocs != 0 {
		t.Fatalf("Allow of a held key allocates %v times", allocs)
	}
}

func BenchmarkLocalAllow(b *testing.B) {
	for _, keys := range []int{1, 1024} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			l := ratelimit.NewLocal(ratelimit.LocalOptions{})
			names := make([]string, keys)
			for i := range names {
				names[i] = fmt.Sprintf("user-%d", i)
			}
			var next atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				i := int(next.Add(1)) * 7919
				for pb.Next() {
					i++
					if _, err := l.Allow(ctx, names[i%keys], 1<<30, time.Minute); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
