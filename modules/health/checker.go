package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultTimeout bounds each check of a [Checker] made without a timeout.
const DefaultTimeout = 2 * time.Second

// DrainingCheck is the name of the result that [Checker.Ready] reports,
// failed and critical, once [Checker.Drain] was called.
const DrainingCheck = "draining"

// StartingCheck is the name of the result that [Checker.Ready] reports,
// failed and critical, from [Checker.Starting] until [Checker.Started].
const StartingCheck = "starting"

// Checker holds an app's checks and runs them. It is safe for concurrent
// use; checks may be added while it serves. Probes that overlap share the
// run of each check in progress (a check never runs twice at once); no
// result outlives its run.
type Checker struct {
	timeout  time.Duration
	mu       sync.RWMutex
	checks   []Check
	starting atomic.Bool
	draining atomic.Bool
	runs     checkRuns
}

// NewChecker returns a Checker with checks, each bounded by timeout unless
// it has its own (zero means [DefaultTimeout]).
func NewChecker(timeout time.Duration, checks ...Check) (*Checker, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	c := &Checker{timeout: timeout}
	if err := c.Add(checks...); err != nil {
		return nil, err
	}
	return c, nil
}

// reservedChecks are the names of the results a [Checker] reports itself,
// with when it reports them.
var reservedChecks = map[string]string{
	StartingCheck: "while the app starts",
	DrainingCheck: "while the app stops",
}

// Add adds checks. A check without a name or a Run function, or whose
// name is taken or reserved ([StartingCheck], [DrainingCheck]), is refused
// with an error naming it, and none is added.
func (c *Checker) Add(checks ...Check) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	for _, ch := range c.checks {
		seen[ch.Name] = true
	}
	for _, ch := range checks {
		switch {
		case ch.Name == "":
			return errors.New("health: a check without a name")
		case ch.Run == nil:
			return fmt.Errorf("health: check %q has no Run function", ch.Name)
		case reservedChecks[ch.Name] != "":
			return fmt.Errorf("health: check %q has a reserved name: the Checker reports its own %q result %s; give the check another name",
				ch.Name, ch.Name, reservedChecks[ch.Name])
		case seen[ch.Name]:
			return fmt.Errorf("health: two checks are named %q", ch.Name)
		}
		seen[ch.Name] = true
	}
	c.checks = append(c.checks, checks...)
	return nil
}

// Starting makes [Checker.Ready] unhealthy until [Checker.Started]: the
// app is not serving yet, whichever of its checks are critical. The
// metrics module calls it when it builds the app's Checker.
func (c *Checker) Starting() { c.starting.Store(true) }

// Started ends what [Checker.Starting] began. The metrics module calls it
// once the app's Netron listens, before discovery registers the app.
func (c *Checker) Started() { c.starting.Store(false) }

// Drain makes [Checker.Ready] unhealthy from now on: the app is stopping
// and should be sent no more work. The metrics module calls it first thing
// when the app stops.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether [Checker.Drain] was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Live runs the liveness checks ([Check.Liveness]): is the process well?
func (c *Checker) Live(ctx context.Context) Report {
	return c.run(ctx, true)
}

// Ready runs every check, and reports the starting and the draining app
// unhealthy: should the app be sent work?
func (c *Checker) Ready(ctx context.Context) Report {
	return c.run(ctx, false)
}

// run runs the checks (the liveness ones only when live) concurrently and
// waits for each until its timeout.
func (c *Checker) run(ctx context.Context, live bool) Report {
	start := time.Now()
	c.mu.RLock()
	var checks []Check
	for _, ch := range c.checks {
		if ch.Liveness || !live {
			checks = append(checks, ch)
		}
	}
	c.mu.RUnlock()

	results := make(map[string]Result, len(checks)+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range checks {
		wg.Go(func() {
			r := c.runOne(ctx, ch)
			mu.Lock()
			results[ch.Name] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	if !live && c.starting.Load() {
		results[StartingCheck] = Result{Critical: true, Error: "the app is starting"}
	}
	if !live && c.Draining() {
		results[DrainingCheck] = Result{Critical: true, Error: "the app is stopping"}
	}
	return Report{
		Status:     status(results),
		Timestamp:  start.UnixMilli(),
		DurationMs: ms(time.Since(start)),
		Checks:     results,
	}
}

// runOne waits, within the check's timeout, for the run of ch in progress
// or a new one (see [checkRuns]). A check that overruns it is reported
// failed at once; its run ends when the check returns.
func (c *Checker) runOne(ctx context.Context, ch Check) Result {
	timeout := ch.Timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	// A probe may come with a deadline of its own before the timeout
	// (a heartbeat's): the error then says that it passed.
	probeDeadline, probeFirst := ctx.Deadline()
	probeFirst = probeFirst && time.Until(probeDeadline) < timeout
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	run := c.runs.join(ctx, ch, timeout)
	var err error
	select {
	case <-run.done:
		err = run.err
	case <-ctx.Done():
		switch {
		case ctx.Err() == context.Canceled:
			err = errors.New("the probe was cancelled")
		case probeFirst:
			err = fmt.Errorf("no answer within the probe's deadline (%v; the check's timeout is %v)", time.Since(start).Round(time.Millisecond), timeout)
		default:
			err = fmt.Errorf("no answer within %v", timeout)
		}
	}
	r := Result{Healthy: err == nil, Critical: ch.Critical, DurationMs: ms(time.Since(start))}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
