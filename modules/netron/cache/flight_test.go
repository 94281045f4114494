package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
)

// Report is a slow cacheable method: each run is counted and holds until
// every caller has run it too, or until hold has passed, so that calls
// that all run it end together and a call that waits for another's result
// waits no longer than hold.
type Report struct {
	runs    *atomic.Int64
	callers int64
	hold    time.Duration
	fail    error // what each run returns, when set
	all     chan struct{}
	once    *sync.Once
}

func (r Report) Build(ctx context.Context, month string) (string, error) {
	if r.runs.Add(1) == r.callers {
		r.once.Do(func() { close(r.all) })
	}
	select {
	case <-r.all:
	case <-time.After(r.hold):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if r.fail != nil {
		return "", r.fail
	}
	return "report of " + month, nil
}

func newReport(callers int64, fail error) (Report, *atomic.Int64) {
	var runs atomic.Int64
	return Report{runs: &runs, callers: callers, hold: time.Second, fail: fail, all: make(chan struct{}), once: new(sync.Once)}, &runs
}

// callTogether makes callers calls of reports@1.0.0.build("2026-03") at
// once and returns their results and errors.
func callTogether(t *testing.T, n *netron.Netron, callers int) ([]any, []error) {
	t.Helper()
	vals, errs := make([]any, callers), make([]error, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			vals[i], errs[i] = n.Invoke(context.Background(), invocation(t, "reports@1.0.0", "build", "2026-03"))
		})
	}
	close(start)
	wg.Wait()
	return vals, errs
}

// TestConcurrentMissesRunOnce: callers that ask at once for a result the
// cache does not hold yet run the method once; the others wait for that
// run and get its result.
func TestConcurrentMissesRunOnce(t *testing.T) {
	t.Parallel()
	const callers = 8
	c := cache.New(100)
	defer c.Close()
	r, runs := newReport(callers, nil)
	n := cachedNetron(t, c, "reports", r)
	vals, errs := callTogether(t, n, callers)
	for i := range callers {
		if errs[i] != nil || vals[i] != "report of 2026-03" {
			t.Fatalf("caller %d: %v, %v; want the report", i, vals[i], errs[i])
		}
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("%d callers asking at once for one uncached result ran the method %d times, want once", callers, got)
	}
	if st := c.Stats(); st.Misses != 1 || st.Hits != callers-1 {
		t.Fatalf("Stats %+v, want 1 miss and %d hits", st, callers-1)
	}
}

// TestConcurrentFailureIsShared: callers waiting for a run that fails get
// its error, and errors are still not kept.
func TestConcurrentFailureIsShared(t *testing.T) {
	t.Parallel()
	const callers = 8
	c := cache.New(100)
	defer c.Close()
	r, runs := newReport(callers, netron.Errorf(netron.CodeUnavailable, "the ledger is down"))
	r.hold = 3 * time.Second // a caller arriving after the run would run it again
	n := cachedNetron(t, c, "reports", r)
	_, errs := callTogether(t, n, callers)
	for i, err := range errs {
		if netron.CodeOf(err) != netron.CodeUnavailable {
			t.Fatalf("caller %d: %v; want the run's unavailable error", i, err)
		}
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("%d callers asking at once ran the failing method %d times, want once", callers, got)
	}
	r.once.Do(func() { close(r.all) }) // runs no longer hold
	if _, err := n.Invoke(context.Background(), invocation(t, "reports@1.0.0", "build", "2026-03")); err == nil || runs.Load() != 2 {
		t.Fatalf("a call after the failure: %v, %d runs; want it to run the method again and fail", err, runs.Load())
	}
}

// TestWaiterHonoursItsContext: a caller waiting for another's run gives up
// when its own context ends, with its context's code; the run goes on and
// its result is kept.
func TestWaiterHonoursItsContext(t *testing.T) {
	c := cache.New(100)
	defer c.Close()
	r, runs := newReport(1_000, nil) // every run holds for r.hold
	r.hold = 10 * time.Second
	release := make(chan struct{})
	r.all = release
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	n := cachedNetron(t, c, "reports", r)
	first := make(chan error, 1)
	go func() {
		_, err := n.Invoke(context.Background(), invocation(t, "reports@1.0.0", "build", "2026-03"))
		first <- err
	}()
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := n.Invoke(ctx, invocation(t, "reports@1.0.0", "build", "2026-03"))
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded || time.Since(start) > 5*time.Second {
		t.Fatalf("a waiting caller whose deadline passed: %v after %v; want deadline_exceeded well before the run ends", err, time.Since(start))
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("the waiting caller ran the method: %d runs, want 1", got)
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if v, err := n.Invoke(context.Background(), invocation(t, "reports@1.0.0", "build", "2026-03")); err != nil || v != "report of 2026-03" || runs.Load() != 1 {
		t.Fatalf("a call after the run: %v, %v, %d runs; want the kept report", v, err, runs.Load())
	}
}

// TestLeaderCanceledWaitersRunIt: when the caller whose run the others wait
// for gives up, its cancellation is not theirs: one of them runs the
// method and they get its result.
func TestLeaderCanceledWaitersRunIt(t *testing.T) {
	c := cache.New(100)
	defer c.Close()
	r, runs := newReport(1_000, nil)
	r.hold = 10 * time.Second
	release := make(chan struct{})
	r.all = release
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	n := cachedNetron(t, c, "reports", r)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := n.Invoke(ctx, invocation(t, "reports@1.0.0", "build", "2026-03"))
		first <- err
	}()
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() {
		v, err := n.Invoke(context.Background(), invocation(t, "reports@1.0.0", "build", "2026-03"))
		if err == nil && v != "report of 2026-03" {
			err = errors.New("wrong report")
		}
		second <- err
	}()
	// The second caller runs the method itself only once the first has
	// given up (run 2), or, on code without waiting, at once.
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-first; netron.CodeOf(err) != netron.CodeCanceled {
		t.Fatalf("the canceled caller: %v, want canceled", err)
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-second; err != nil {
		t.Fatalf("the caller that waited for a canceled run: %v, want the report", err)
	}
}
