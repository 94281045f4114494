package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/health"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// check returns a check named name that fails with err when err is set.
func check(name string, critical bool, err *atomic.Pointer[error]) health.Check {
	return health.Check{Name: name, Critical: critical, Run: func(context.Context) error {
		if p := err.Load(); p != nil {
			return *p
		}
		return nil
	}}
}

// The status is unhealthy when a critical check fails, degraded when only
// others do, healthy otherwise (NetronHealthCheck's rule), and the HTTP
// status follows: 200, 200, 503.
func TestStatus(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name             string
		failCrit, failNo bool
		want             health.Status
		code             int
	}{
		{"every check passes", false, false, health.Healthy, 200},
		{"a check that is not critical fails", false, true, health.Degraded, 200},
		{"a critical check fails", true, false, health.Unhealthy, 503},
		{"both fail", true, true, health.Unhealthy, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var crit, other atomic.Pointer[error]
			if tt.failCrit {
				crit.Store(&boom)
			}
			if tt.failNo {
				other.Store(&boom)
			}
			c, err := health.NewChecker(0, check("db", true, &crit), check("cache", false, &other))
			if err != nil {
				t.Fatal(err)
			}
			rep := c.Ready(context.Background())
			if rep.Status != tt.want || rep.Status.HTTPStatus() != tt.code {
				t.Fatalf("status %s (%d), want %s (%d): %+v", rep.Status, rep.Status.HTTPStatus(), tt.want, tt.code, rep)
			}
			if got := rep.Checks["db"]; got.Healthy == tt.failCrit || !got.Critical || (got.Error == "boom") != tt.failCrit {
				t.Errorf("db = %+v", got)
			}
			if got := rep.Checks["cache"]; got.Healthy == tt.failNo || got.Critical {
				t.Errorf("cache = %+v", got)
			}
		})
	}
}

// Live runs the liveness checks only; Ready runs them all.
func TestLiveRunsProcessChecksOnly(t *testing.T) {
	var fail atomic.Pointer[error]
	boom := errors.New("down")
	fail.Store(&boom)
	c, err := health.NewChecker(0, check("db", true, &fail),
		health.Check{Name: "process", Liveness: true, Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	live := c.Live(context.Background())
	if live.Status != health.Healthy || len(live.Checks) != 1 || !live.Checks["process"].Healthy {
		t.Fatalf("Live = %+v, want only the process check, healthy", live)
	}
	if ready := c.Ready(context.Background()); ready.Status != health.Unhealthy || len(ready.Checks) != 2 {
		t.Fatalf("Ready = %+v, want both checks, unhealthy", ready)
	}
}

// A check that overruns its timeout fails at once, with the time it had.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, err := health.NewChecker(time.Second, health.Check{Name: "slow", Critical: true, Timeout: 50 * time.Millisecond,
		Run: func(ctx context.Context) error {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := c.Ready(context.Background())
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Ready took %v", d)
	}
	if r := rep.Checks["slow"]; r.Healthy || !strings.Contains(r.Error, "no answer within 50ms") || rep.Status != health.Unhealthy {
		t.Fatalf("slow = %+v, status %s", r, rep.Status)
	}
}

// A check that panics fails; the others still answer.
func TestPanickingCheck(t *testing.T) {
	c, err := health.NewChecker(0, health.Check{Name: "bad", Run: func(context.Context) error { panic("oops") }},
		health.Check{Name: "good", Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	rep := c.Ready(context.Background())
	if r := rep.Checks["bad"]; r.Healthy || !strings.Contains(r.Error, "oops") {
		t.Fatalf("bad = %+v", r)
	}
	if !rep.Checks["good"].Healthy || rep.Status != health.Degraded {
		t.Fatalf("report = %+v", rep)
	}
}

// dbError is an error of a driver, whose Error method reads its fields.
type dbError struct{ msg string }

func (e *dbError) Error() string { return e.msg }

// A check whose error panics when it is read (a nil *dbError returned as
// an error) fails like a check that panics, rather than crashing the
// process from the probe's goroutine; the others still answer.
func TestCheckWhoseErrorPanics(t *testing.T) {
	c, err := health.NewChecker(0, health.Check{Name: "bad", Run: func(context.Context) error {
		var e *dbError // no failure, but a non-nil error
		return e
	}}, health.Check{Name: "good", Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	rep := c.Ready(context.Background())
	if r := rep.Checks["bad"]; r.Healthy || !strings.Contains(r.Error, "*health_test.dbError") || !strings.Contains(r.Error, "nil pointer dereference") {
		t.Fatalf("bad = %+v, want failed, naming the error's type and its panic", r)
	}
	if !rep.Checks["good"].Healthy || rep.Status != health.Degraded {
		t.Fatalf("report = %+v", rep)
	}
}

// A check that ends its goroutine without returning (runtime.Goexit, as
// t.FailNow does) did not pass.
func TestCheckThatDoesNotReturn(t *testing.T) {
	c, err := health.NewChecker(0, health.Check{Name: "gone", Critical: true, Run: func(context.Context) error {
		runtime.Goexit()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Ready(context.Background()).Checks["gone"]; r.Healthy || !strings.Contains(r.Error, "Goexit") {
		t.Fatalf("gone = %+v, want failed, saying it ended without returning", r)
	}
}

// Drain makes Ready unhealthy, with a critical draining result, and leaves
// Live alone.
func TestDrain(t *testing.T) {
	c, err := health.NewChecker(0, health.Check{Name: "ok", Liveness: true, Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if rep := c.Ready(context.Background()); rep.Status != health.Healthy {
		t.Fatalf("before Drain: %+v", rep)
	}
	c.Drain()
	rep := c.Ready(context.Background())
	if r, ok := rep.Checks[health.DrainingCheck]; rep.Status != health.Unhealthy || !ok || r.Healthy || !r.Critical {
		t.Fatalf("after Drain: %+v", rep)
	}
	if rep := c.Live(context.Background()); rep.Status != health.Healthy {
		t.Fatalf("Live after Drain: %+v", rep)
	}
}

// Starting makes Ready unhealthy, with a critical starting result, until
// Started, whichever checks are critical; Live is left alone.
func TestStarting(t *testing.T) {
	c, err := health.NewChecker(0, health.Check{Name: "ok", Liveness: true, Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	c.Starting()
	rep := c.Ready(context.Background())
	if r, ok := rep.Checks[health.StartingCheck]; rep.Status != health.Unhealthy || !ok || r.Healthy || !r.Critical {
		t.Fatalf("after Starting: %+v", rep)
	}
	if rep := c.Live(context.Background()); rep.Status != health.Healthy {
		t.Fatalf("Live while starting: %+v", rep)
	}
	c.Started()
	rep = c.Ready(context.Background())
	if _, ok := rep.Checks[health.StartingCheck]; rep.Status != health.Healthy || ok {
		t.Fatalf("after Started: %+v", rep)
	}
}

// Add refuses checks without a name or a function, names taken, and the
// reserved names, saying why they are reserved and what to do.
func TestAddRefuses(t *testing.T) {
	run := func(context.Context) error { return nil }
	c, err := health.NewChecker(0, health.Check{Name: "db", Run: run})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ch   health.Check
		want string
	}{
		{health.Check{Run: run}, "without a name"},
		{health.Check{Name: "x"}, `"x" has no Run`},
		{health.Check{Name: "db", Run: run}, `two checks are named "db"`},
		{health.Check{Name: health.DrainingCheck, Run: run}, `check "draining" has a reserved name: the Checker reports its own "draining" result while the app stops; give the check another name`},
		{health.Check{Name: health.StartingCheck, Run: run}, `check "starting" has a reserved name: the Checker reports its own "starting" result while the app starts; give the check another name`},
	} {
		if err := c.Add(tt.ch); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Add(%q) = %v, want %q", tt.ch.Name, err, tt.want)
		}
	}
}

// The handlers answer JSON with every check's state and timing, 200 or
// 503, over real HTTP.
func TestHandlers(t *testing.T) {
	var fail atomic.Pointer[error]
	c, err := health.NewChecker(0, check("db", true, &fail),
		health.Check{Name: "process", Liveness: true, Run: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/healthz", c.LiveHandler())
	mux.Handle("/readyz", c.ReadyHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, health.Report) {
		t.Helper()
		resp, err := testsrv.HTTPClient.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		var rep health.Report
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return resp.StatusCode, rep
	}
	if code, rep := get("/readyz"); code != 200 || rep.Status != health.Healthy || len(rep.Checks) != 2 || rep.Timestamp == 0 {
		t.Fatalf("/readyz = %d %+v", code, rep)
	}
	boom := errors.New("connection refused")
	fail.Store(&boom)
	code, rep := get("/readyz")
	if code != 503 || rep.Status != health.Unhealthy || rep.Checks["db"].Error != "connection refused" {
		t.Fatalf("/readyz with db down = %d %+v", code, rep)
	}
	if code, rep := get("/healthz"); code != 200 || rep.Status != health.Healthy || len(rep.Checks) != 1 {
		t.Fatalf("/healthz with db down = %d %+v", code, rep)
	}
	fail.Store(nil)
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz after db recovered = %d", code)
	}
	resp, err := testsrv.HTTPClient.Post(srv.URL+"/readyz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d, want 405", resp.StatusCode)
	}
}

// The process checks fail past their ceilings and pass without one.
func TestProcessChecks(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		ch   health.Check
		fail bool
		want string
	}{
		{health.Goroutines(1), true, "goroutines, over the ceiling of 1"},
		{health.Goroutines(1 << 30), false, ""},
		{health.Goroutines(0), false, ""},
		{health.Memory(1), true, "over the ceiling of 0.0 MiB"},
		{health.Memory(1 << 50), false, ""},
		{health.SchedulerLatency(0), false, ""},
		{health.SchedulerLatency(time.Hour), false, ""},
	} {
		err := tt.ch.Run(ctx)
		if (err != nil) != tt.fail || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want failure %v (%q)", tt.ch.Name, err, tt.fail, tt.want)
		}
		if !tt.ch.Liveness {
			t.Errorf("%s is not a liveness check", tt.ch.Name)
		}
	}
}

// SchedulerLatency fails when goroutines waited for a CPU: more runnable
// goroutines than CPUs, each spinning, make the others wait.
func TestSchedulerLatencyUnderLoad(t *testing.T) {
	ch := health.SchedulerLatency(50 * time.Microsecond)
	_ = ch.Run(context.Background()) // the window starts now
	var stop atomic.Bool
	done := make(chan struct{})
	n := 8 * runtime.GOMAXPROCS(0)
	for range n {
		go func() {
			defer func() { done <- struct{}{} }()
			for !stop.Load() {
				for i := 0; i < 1e5; i++ {
					_ = i * i
				}
				runtime.Gosched()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	for range n {
		<-done
	}
	err := ch.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "99th percentile") {
		t.Fatalf("after %d spinning goroutines: %v, want a latency over 50µs", n, err)
	}
}
