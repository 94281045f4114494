package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/health"
)

// An app's first registration carries its readiness, as its heartbeats
// do: an app whose critical check fails as it starts is registered
// unhealthy, and one that starts well is registered healthy, even with
// the discovery check critical (the app cannot be in the registry before
// it registers). The heartbeat is an hour away: what the registry says
// right after Start is what the registration wrote.
func TestFirstRegistrationCarriesReadiness(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	for _, tc := range []struct {
		name     string
		critical string
		failing  bool
		want     discovery.Health
	}{
		{"a normal start", "transports", false, discovery.Healthy},
		{"a normal start, discovery critical", "transports,discovery", false, discovery.Healthy},
		{"a critical check failing", "transports", true, discovery.Unhealthy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := prefix(t, url)
			testsrv.StartApp(t, appSettings(url, p, "netron.listen=tcp://127.0.0.1:0", "discovery.heartbeat=1h", "discovery.ttl=2h",
				"metrics.health.critical="+tc.critical),
				titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") }),
				titan.Provide(health.AsCheck(func() health.Check {
					return health.Check{Name: "database", Critical: true, Run: func(context.Context) error {
						if tc.failing {
							return errors.New("connection refused")
						}
						return nil
					}}
				})))
			r := open(t, url, p, time.Minute, nil)
			all, err := r.Discover(context.Background(), discovery.Query{Service: "who", AnyHealth: true})
			if err != nil || len(all) != 1 {
				t.Fatalf("Discover(any health) = %v, %v; want the one instance", all, err)
			}
			if all[0].Health != tc.want {
				t.Errorf("registered %s, want %s", all[0].Health, tc.want)
			}
		})
	}
}
