package metrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/health"
)

// The app's readiness is the health its registry entries carry: while a
// critical check fails the instance is written unhealthy, and clients
// (Discover without AnyHealth) pass over it; it comes back once the check
// recovers.
func TestRegistryEntriesCarryReadiness(t *testing.T) {
	var down atomic.Bool
	var reg discovery.Registry
	startApp(t, "tcp://127.0.0.1:0", []string{"discovery.heartbeat=50ms", "discovery.ttl=2s"},
		titan.Provide(health.AsCheck(func() health.Check {
			return health.Check{Name: "database", Critical: true, Run: func(context.Context) error {
				if down.Load() {
					return errors.New("connection refused")
				}
				return nil
			}}
		})),
		titan.Invoke(func(r discovery.Registry) { reg = r }),
	)
	ctx := context.Background()
	state := func() (served int, h discovery.Health) {
		healthy, err := reg.Discover(ctx, discovery.Query{Service: "calc"})
		if err != nil {
			t.Fatal(err)
		}
		all, err := reg.Discover(ctx, discovery.Query{Service: "calc", AnyHealth: true})
		if err != nil || len(all) != 1 {
			t.Fatalf("Discover(any health) = %v, %v; want the one instance", all, err)
		}
		return len(healthy), all[0].Health
	}
	wait := func(what string, wantServed int, want discovery.Health) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, h := state()
			if n == wantServed && h == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d healthy instances, the entry says %s; want %d, %s", what, n, h, wantServed, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait("at start", 1, discovery.Healthy)
	down.Store(true)
	wait("a critical check failing", 0, discovery.Unhealthy)
	down.Store(false)
	wait("recovered", 1, discovery.Healthy)
}
