package netron_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Criterion 6: a cached method is not run again within its TTL, and is
// after its TTL and after the invalidate_cache task.
func TestAcceptanceCache(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	add := func(t *testing.T, p *netron.Peer, a, b int) {
		t.Helper()
		if v, err := netron.CallUnary[int](ctx, p, "calculator@1.0.0", "add", a, b); err != nil || v != a+b {
			t.Fatalf("add(%d, %d) = %v, %v", a, b, v, err)
		}
	}
	runs := func(t *testing.T, s *server, want int64) {
		t.Helper()
		if got := s.calc.calls.Load(); got != want {
			t.Fatalf("add ran %d times, want %d", got, want)
		}
	}

	t.Run("invalidate_cache", func(t *testing.T) {
		for _, opt := range []netron.ServiceOption{
			netron.WithCache(time.Minute),
			netron.WithMethod("add", netron.WithCacheTTL(time.Minute)),
		} {
			t.Run(opt.String(), func(t *testing.T) {
				s := startServer(t, "tcp", opt)
				p := dial(t, s.addr)
				for range 5 {
					add(t, p, 1, 2)
				}
				runs(t, s, 1)
				add(t, p, 2, 2) // other arguments: another entry
				runs(t, s, 2)
				var removed int
				if err := p.Task(ctx, &removed, netron.TaskInvalidateCache); err != nil {
					t.Fatal(err)
				}
				if removed != 2 {
					t.Errorf("invalidate_cache removed %d entries, want 2", removed)
				}
				add(t, p, 1, 2)
				runs(t, s, 3)
				add(t, p, 1, 2)
				runs(t, s, 3)
				// A pattern naming another service leaves the entry alone.
				if err := p.Task(ctx, &removed, netron.TaskInvalidateCache, "other*"); err != nil || removed != 0 {
					t.Fatalf("invalidate_cache other*: %d, %v", removed, err)
				}
				add(t, p, 1, 2)
				runs(t, s, 3)
				if err := p.Task(ctx, &removed, netron.TaskInvalidateCache, "calc*"); err != nil || removed != 1 {
					t.Fatalf("invalidate_cache calc*: %d, %v", removed, err)
				}
				add(t, p, 1, 2)
				runs(t, s, 4)
			})
		}
	})

	t.Run("TTL", func(t *testing.T) {
		const ttl = 300 * time.Millisecond
		s := startServer(t, "mem", netron.WithMethod("add", netron.WithCacheTTL(ttl)))
		p := dial(t, s.addr)
		start := time.Now()
		add(t, p, 1, 2)
		add(t, p, 1, 2)
		if time.Since(start) < ttl {
			runs(t, s, 1) // both calls within the TTL
		} else {
			t.Logf("two calls took %v, longer than the TTL: not checking the hit", time.Since(start))
		}
		time.Sleep(ttl + 100*time.Millisecond)
		add(t, p, 1, 2)
		runs(t, s, 2)
	})
}
