package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery/redis"
)

// A Redis out of reach, refusing connections or accepting them and never
// answering, fails Open in about a second with an error naming its
// address, instead of after go-redis's retries of the command and of its
// dials (1.75 s against a refusing server) or its 3 s read timeout.
func TestOpenOutageIsBounded(t *testing.T) {
	t.Parallel()
	for name, addr := range map[string]string{"refused": testsrv.RefusedAddr(t), "silent": testsrv.SilentAddr(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r, err := redis.Open(context.Background(), "redis://"+addr+"/0", "p", time.Second, nil)
			took := time.Since(start)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), addr) {
				t.Errorf("the error does not name %s: %v", addr, err)
			}
			if took > 1500*time.Millisecond {
				t.Errorf("Open took %v with Redis %s, want about a second at most: %v", took.Round(time.Millisecond), name, err)
			}
		})
	}
}
