package security

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security/policy"
	rlredis "github.com/titanframework/titan/modules/security/ratelimit/redis"
)

// syncBuffer is a log sink safe for the guard's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A caller that cancels its call while its rate limit is counted in Redis
// gets its cancellation back; Redis, which did nothing wrong, is not
// logged as failing.
func TestRateLimitCancelledCallerIsNoBackendFailure(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rc := goredis.NewClient(opts)
	t.Cleanup(func() { _ = rc.Close() })
	var logs syncBuffer
	g, err := New(context.Background(), Config{}, Options{
		Log:     slog.New(slog.NewTextHandler(&logs, nil)),
		Limiter: rlredis.New(rc, testsrv.RedisPrefix(t, url)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	c := &compiled{name: "meter.tick", limit: &policy.RateLimit{N: 100, Per: time.Minute}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = g.limit(ctx, c, "meter:10.0.0.1", nil, nil)
	if netron.CodeOf(err) != netron.CodeCanceled {
		t.Errorf("a cancelled caller's call: %v, want canceled", err)
	}
	if strings.Contains(logs.String(), "rate limit backend") {
		t.Errorf("a cancelled caller was logged as a backend failure:\n%s", logs.String())
	}
}
