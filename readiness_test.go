package titan_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/health"
)

// An app that has not started is not ready, whichever built-in checks
// metrics.health.critical makes critical: /readyz answers 503 until the
// listeners are open, as it does once the app drains. Once started it is
// ready, and its first registration says healthy (the heartbeat is an
// hour away).
func TestNotReadyWhileStarting(t *testing.T) {
	t.Parallel()
	for _, critical := range []string{"peers", "transports", "transports,discovery"} {
		t.Run(critical, func(t *testing.T) {
			var ck *health.Checker
			var reg discovery.Registry
			app := titan.New(
				titan.WithConfig(quiet("metrics.health.critical="+critical, "netron.listen=tcp://127.0.0.1:0",
					"discovery.heartbeat=1h", "discovery.ttl=2h")),
				titan.Service("who", "1.0.0", func() *testsrv.Who { return testsrv.NewWho("a") }),
				titan.Invoke(func(c *health.Checker, r discovery.Registry) { ck, reg = c, r }),
			)
			if err := app.Err(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			rep := ck.Ready(ctx)
			if r := rep.Checks[health.StartingCheck]; rep.Status.HTTPStatus() != 503 || r.Healthy || !r.Critical {
				t.Fatalf("before Start, /readyz answers %d (%s): %+v", rep.Status.HTTPStatus(), rep.Status, rep.Checks)
			}
			if err := app.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer app.Stop(ctx)
			rep = ck.Ready(ctx)
			if _, starting := rep.Checks[health.StartingCheck]; rep.Status != health.Healthy || starting {
				t.Errorf("after Start, /readyz says %s: %+v", rep.Status, rep.Checks)
			}
			all, err := reg.Discover(ctx, discovery.Query{Service: "who", AnyHealth: true})
			if err != nil || len(all) != 1 {
				t.Fatalf("Discover(any health) = %v, %v; want the one instance", all, err)
			}
			if all[0].Health != discovery.Healthy {
				t.Errorf("registered %s, want healthy", all[0].Health)
			}
		})
	}
}
