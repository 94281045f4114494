package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/health"
	"github.com/titanframework/titan/modules/netron"
)

// /readyz turns unhealthy (503) when a critical check an app provides
// fails, degraded (200) when a check that is not critical fails, and
// healthy again when they recover; /healthz, about the process only, stays
// healthy throughout.
func TestReadyzFollowsAppChecks(t *testing.T) {
	var dbDown, cacheDown atomic.Bool
	ta := startApp(t, "tcp://127.0.0.1:0", nil,
		titan.Provide(
			health.AsCheck(func() health.Check {
				return health.Check{Name: "database", Critical: true, Run: func(context.Context) error {
					if dbDown.Load() {
						return errors.New("connection refused")
					}
					return nil
				}}
			}),
			health.AsCheck(func() health.Check {
				return health.Check{Name: "cache", Run: func(context.Context) error {
					if cacheDown.Load() {
						return errors.New("evicting")
					}
					return nil
				}}
			}),
		))
	step := func(what string, code int, status health.Status) health.Report {
		t.Helper()
		got, rep := getReport(t, ta.admin+"/readyz")
		if got != code || rep.Status != status {
			t.Fatalf("%s: /readyz = %d %s, want %d %s: %+v", what, got, rep.Status, code, status, rep)
		}
		if code, live := getReport(t, ta.admin+"/healthz"); code != 200 || live.Status != health.Healthy {
			t.Fatalf("%s: /healthz = %d %+v", what, code, live)
		}
		return rep
	}
	rep := step("all well", 200, health.Healthy)
	for _, name := range []string{"database", "cache", "transports", "peers", "discovery", "memory", "goroutines", "scheduler"} {
		if _, ok := rep.Checks[name]; !ok {
			t.Errorf("no %s check in %+v", name, rep.Checks)
		}
	}
	if !rep.Checks["database"].Critical || rep.Checks["cache"].Critical || !rep.Checks["transports"].Critical {
		t.Errorf("criticality: %+v", rep.Checks)
	}
	cacheDown.Store(true)
	step("the cache down", 200, health.Degraded)
	dbDown.Store(true)
	rep = step("the database down too", 503, health.Unhealthy)
	if r := rep.Checks["database"]; r.Healthy || r.Error != "connection refused" {
		t.Errorf("database = %+v", r)
	}
	cacheDown.Store(false)
	dbDown.Store(false)
	step("both recovered", 200, health.Healthy)
}

// The peers check follows a remote the app dialled: made critical
// (metrics.health.critical), /readyz fails while the remote is down and
// recovers once the peer has reconnected to it.
func TestReadyzFollowsRemotePeer(t *testing.T) {
	remoteAddr := fmt.Sprintf("tcp://127.0.0.1:%d", testsrv.FreePort(t))
	startRemote := func() *titan.App {
		app := titan.New(testsrv.Settings("netron.listen="+remoteAddr),
			titan.Service("calc", "1.0.0", func() Calc { return Calc{} }))
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return app
	}
	remote := startRemote()
	ta := startApp(t, "tcp://127.0.0.1:0", []string{"metrics.health.critical=transports,peers"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := ta.n.Dial(ctx, remoteAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if code, rep := getReport(t, ta.admin+"/readyz"); code != 200 || !rep.Checks["peers"].Healthy {
		t.Fatalf("with the remote up: %d %+v", code, rep)
	}

	if err := remote.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var last health.Report
	eventually(t, 5*time.Second, "/readyz fails with the remote down", func() bool {
		code, rep := getReport(t, ta.admin+"/readyz")
		last = rep
		return code == 503 && !rep.Checks["peers"].Healthy
	})
	if e := last.Checks["peers"].Error; !strings.Contains(e, strings.TrimPrefix(remoteAddr, "tcp://")) {
		t.Errorf("the peers check does not name the remote: %q", e)
	}

	remote = startRemote()
	defer remote.Stop(context.Background())
	eventually(t, 10*time.Second, "/readyz recovers with the remote back", func() bool {
		code, _ := getReport(t, ta.admin+"/readyz")
		return code == 200
	})
}

// When the app stops, /readyz fails first: during metrics.drainDelay it
// answers 503 on the admin server while the app's tcp listener still
// accepts connections and serves calls.
func TestReadyzFailsBeforeListenersClose(t *testing.T) {
	t.Parallel()
	ta := startApp(t, "tcp://127.0.0.1:0", []string{"metrics.drainDelay=1500ms"})
	if code, _ := getReport(t, ta.admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz before stop = %d", code)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- ta.app.Stop(context.Background()) }()

	var rep health.Report
	eventually(t, 2*time.Second, "/readyz answers 503 once the stop began", func() bool {
		code, r := getReport(t, ta.admin+"/readyz")
		rep = r
		return code == 503
	})
	if d := rep.Checks[health.DrainingCheck]; d.Healthy || !d.Critical || rep.Status != health.Unhealthy {
		t.Fatalf("/readyz while draining: %+v", rep)
	}
	// The listener still accepts: a new connection, a call served.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := netron.Dial(ctx, ta.addrs["tcp"])
	if err != nil {
		t.Fatalf("dial while /readyz fails: %v", err)
	}
	if got, err := netron.CallUnary[float64](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil || got != 3 {
		t.Fatalf("call while /readyz fails: %v, %v", got, err)
	}
	p.Close()
	select {
	case err := <-stopped:
		t.Fatalf("the app stopped (%v) before the test was done with it: drainDelay not held", err)
	default:
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := netron.Dial(ctx, ta.addrs["tcp"]); err == nil {
		t.Fatal("the listener still accepts after the stop")
	}
}

// Every http:// listener serves the endpoints under /_titan/ unless
// metrics.mount is off; with metrics.enabled off, /metrics is not served
// and health still is.
func TestEndpoints(t *testing.T) {
	get := func(url string) int {
		t.Helper()
		resp, err := testsrv.HTTPClient.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name               string
		sets               []string
		mounted, metricsOn bool
	}{
		{"defaults", nil, true, true},
		{"mount off", []string{"metrics.mount=false"}, false, true},
		{"metrics off", []string{"metrics.enabled=false"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ta := startApp(t, "http://127.0.0.1:0", tt.sets)
			for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
				want := 200
				if path == "/metrics" && !tt.metricsOn {
					want = 404
				}
				if got := get(ta.admin + path); got != want {
					t.Errorf("admin %s = %d, want %d", path, got, want)
				}
				if !tt.mounted {
					want = 404
				}
				if got := get(ta.addrs["http"] + "/_titan" + path); got != want {
					t.Errorf("http listener /_titan%s = %d, want %d", path, got, want)
				}
			}
		})
	}
}

// A bad metrics setting fails start-up with the key, the reason and where
// it came from.
func TestBadConfig(t *testing.T) {
	for set, want := range map[string]string{
		"metrics.listen=9090":                  `metrics.listen (from flag --set metrics.listen): want host:port`,
		"metrics.listen=:99999":                `metrics.listen (from flag --set metrics.listen): want host:port with a port from 0 to 65535`,
		"metrics.health.critical=transports,x": `metrics.health.critical (from flag --set metrics.health.critical): no built-in check is named "x"`,
		"metrics.buckets=[1,0.5]":              `metrics.buckets (from flag --set metrics.buckets): want ascending bounds`,
	} {
		err := titan.New(testsrv.Settings(set)).Err()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--set %s: %v, want %q", set, err, want)
		}
	}
	// Two checks of one name.
	err := titan.New(testsrv.Settings(), titan.Provide(health.AsCheck(func() health.Check {
		return health.Check{Name: "memory", Run: func(context.Context) error { return nil }}
	}))).Err()
	if err == nil || !strings.Contains(err.Error(), `two checks are named "memory"`) {
		t.Errorf("an app check named memory: %v", err)
	}
}

// An admin address that is taken fails the start with the key.
func TestAdminAddressTaken(t *testing.T) {
	ta := startApp(t, "tcp://127.0.0.1:0", nil)
	taken := strings.TrimPrefix(ta.admin, "http://")
	err := titan.New(testsrv.Settings("metrics.listen=" + taken)).Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "metrics.listen (from flag --set metrics.listen)") {
		t.Fatalf("start on a taken address: %v", err)
	}
}
