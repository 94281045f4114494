package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	_ "github.com/titanframework/titan/modules/discovery/redis"
	"github.com/titanframework/titan/modules/health"
)

// A check that does not answer, and is not critical, leaves the app
// registered: the health its heartbeats ask for takes part of each
// heartbeat's time, not all of it, so the write to the registry still
// has time to run. Before, with metrics.health.timeout at or over
// discovery.heartbeat, every heartbeat spent its time waiting for the
// check, its write to the registry failed on the spent context, and the
// app's entries expired: a degraded app vanished from discovery.
func TestHungCheckKeepsTheAppRegistered(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	prefix := testsrv.RedisPrefix(t, url)
	var hang atomic.Bool
	release := make(chan struct{})
	var reg discovery.Registry
	startApp(t, "tcp://127.0.0.1:0", []string{
		"discovery.backend=redis", "discovery.url=" + url, "discovery.prefix=" + prefix,
		"discovery.heartbeat=150ms", "discovery.ttl=600ms", "metrics.health.timeout=5s",
	},
		titan.Provide(health.AsCheck(func() health.Check {
			return health.Check{Name: "cache", Run: func(ctx context.Context) error {
				if hang.Load() {
					select {
					case <-ctx.Done():
					case <-release:
					}
				}
				return nil
			}}
		})),
		titan.Invoke(func(r discovery.Registry) { reg = r }),
	)
	t.Cleanup(func() { close(release) }) // before the app stops
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	registered := func() int {
		all, err := reg.Discover(ctx, discovery.Query{Service: "calc", AnyHealth: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	eventually(t, 5*time.Second, "the app registers", func() bool { return registered() == 1 })

	hang.Store(true)
	// Several TTLs: an app whose heartbeats fail is gone after one.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if n := registered(); n != 1 {
			t.Fatalf("with a check that does not answer (not critical), %d instances registered, want the app's 1", n)
		}
	}
}
