package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/security/ratelimit"
)

// The backend's documented bound: a Redis out of reach (refusing
// connections, or accepting them and never answering) delays a call by
// about a second at most, not by go-redis's retries of the command and of
// its dials, and the call gets an error naming Redis.
func TestBackendOutageIsBounded(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{"refused": "redis://" + testsrv.RefusedAddr(t) + "/0", "silent": "redis://" + testsrv.SilentAddr(t) + "/0"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l, closer, err := ratelimit.OpenBackend(context.Background(), "redis", url, "p")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = closer.Close() })
			for i := range 2 { // the second call finds no connection kept by the first
				start := time.Now()
				d, err := l.Allow(context.Background(), fmt.Sprint("k", i), 10, time.Minute)
				took := time.Since(start)
				if err == nil || !strings.Contains(err.Error(), "redis") || d != (ratelimit.Decision{}) {
					t.Fatalf("call %d: %+v, %v; want an error naming Redis and a zero Decision", i, d, err)
				}
				if took > 1500*time.Millisecond {
					t.Fatalf("call %d took %v with Redis %s, want about a second at most: %v", i, took.Round(time.Millisecond), name, err)
				}
			}
		})
	}
}
