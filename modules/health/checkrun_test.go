package health_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/health"
)

// A check that hangs (ignores its context, as a wedged driver call does)
// is not started again by every probe while its last run has not returned:
// the runs in flight of one check stay bounded, however many probes come.
func TestHungCheckRunsDoNotPileUp(t *testing.T) {
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int64
	c, err := health.NewChecker(10*time.Millisecond, health.Check{Name: "db", Critical: true,
		Run: func(context.Context) error {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
			}
			<-release // wedged: does not watch ctx
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	// 20 probes one after another, as a kubelet sends them.
	for range 20 {
		if r := c.Ready(context.Background()); r.Status != health.Unhealthy {
			t.Fatalf("status %s, want unhealthy", r.Status)
		}
	}
	got := inFlight.Load()
	close(release)
	if got > 1 {
		t.Fatalf("after 20 probes, %d runs of the hung check are still in flight (goroutines leaked per probe); want at most 1", got)
	}
}

// Concurrent probes of a slow but healthy check share its run rather than
// each starting one.
func TestConcurrentProbesShareCheckRuns(t *testing.T) {
	var runs atomic.Int64
	c, err := health.NewChecker(time.Second, health.Check{Name: "db", Critical: true,
		Run: func(ctx context.Context) error {
			runs.Add(1)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() { c.Ready(context.Background()) })
	}
	wg.Wait()
	if n := runs.Load(); n > 10 {
		t.Fatalf("200 concurrent probes ran the check %d times; want them to share runs", n)
	}
}

// A probe that gives up (its request was cancelled) leaves the run it
// shares to the probes still waiting: the run is not tied to the probe
// that started it.
func TestCancelledProbeLeavesSharedRun(t *testing.T) {
	var runs atomic.Int64
	started := make(chan struct{})
	c, err := health.NewChecker(time.Second, health.Check{Name: "db", Critical: true,
		Run: func(ctx context.Context) error {
			if runs.Add(1) == 1 {
				close(started)
			}
			select {
			case <-time.After(500 * time.Millisecond):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan health.Report, 1)
	go func() { first <- c.Ready(ctx) }()
	<-started
	second := make(chan health.Report, 1)
	go func() { second <- c.Ready(context.Background()) }()
	time.Sleep(10 * time.Millisecond) // the second probe joins the run
	cancel()
	if r := (<-first).Checks["db"]; r.Healthy || r.Error != "the probe was cancelled" {
		t.Errorf("the cancelled probe: db = %+v", r)
	}
	if rep := <-second; rep.Status != health.Healthy {
		t.Errorf("the probe still waiting: %+v", rep)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the check ran %d times, want once", n)
	}
}

// probeKey is the key of a value a probe's context carries.
type probeKey struct{}

// A check sees the values of the probe's context (a trace, a logger), as
// a check run by one probe would, though its run is cancelled by no probe.
func TestCheckSeesTheProbesValues(t *testing.T) {
	got := make(chan any, 1)
	c, err := health.NewChecker(time.Second, health.Check{Name: "db", Critical: true,
		Run: func(ctx context.Context) error {
			got <- ctx.Value(probeKey{})
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), probeKey{}, "trace-1")
	if rep := c.Ready(ctx); rep.Status != health.Healthy {
		t.Fatalf("status %s, want healthy", rep.Status)
	}
	if v := <-got; v != "trace-1" {
		t.Fatalf("the check saw the value %v, want the probe's trace-1", v)
	}
}

// A check that overruns its timeout fails, though it returns nil once
// its context has ended: a probe that joined its run late, whose own
// timeout has not passed when the run ends, is told it failed, as the
// probe that started the run was.
func TestOverrunFailsForLateProbes(t *testing.T) {
	var runs atomic.Int64
	release := make(chan struct{})
	c, err := health.NewChecker(time.Second, health.Check{Name: "db", Critical: true, Timeout: 200 * time.Millisecond,
		Run: func(ctx context.Context) error {
			if runs.Add(1) > 1 {
				return nil
			}
			<-ctx.Done()
			<-release // slower than its timeout, then says nothing is wrong
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if rep := c.Ready(context.Background()); rep.Status != health.Unhealthy {
		t.Fatalf("the probe that started the run: %+v, want unhealthy", rep)
	}
	// The run goes on past its timeout; a probe that comes now joins it.
	late := make(chan health.Report, 1)
	go func() { late <- c.Ready(context.Background()) }()
	time.Sleep(10 * time.Millisecond) // the late probe joins the run
	close(release)
	if r := (<-late).Checks["db"]; r.Healthy || r.Error == "" {
		t.Errorf("the late probe: db = %+v, want failed (the check overran its timeout)", r)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the check ran %d times, want once (the late probe joins the run)", n)
	}
}

// A probe whose own deadline comes before the check's timeout, and which
// the check does not answer in time, says that the probe's deadline
// passed, not that the check overran a timeout it was not given.
func TestProbeDeadlineBeforeCheckTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, err := health.NewChecker(30*time.Second, health.Check{Name: "db", Critical: true, Run: func(ctx context.Context) error {
		select {
		case <-ctx.Done():
		case <-release:
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	r := c.Ready(ctx).Checks["db"]
	if r.Healthy {
		t.Fatalf("a check that does not answer passed: %+v", r)
	}
	if strings.HasPrefix(r.Error, "no answer within 30s") || !strings.Contains(r.Error, "probe's deadline") {
		t.Errorf("error %q: want the probe's deadline named, not the check's timeout of 30s", r.Error)
	}
}
