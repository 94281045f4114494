package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// checkRun is one run of a check, which every probe that comes while it
// runs waits for rather than starting another.
type checkRun struct {
	done chan struct{} // closed when the check has returned
	err  error         // what it returned, once done is closed
}

// checkRuns holds the run in progress of each check, by name. A check is
// never run twice at once: concurrent probes share its run, and a check
// that ignores its context (a wedged driver call) holds one goroutine,
// not one per probe. Results are not kept: the probe after a run has
// ended starts a new one.
type checkRuns struct {
	mu      sync.Mutex
	running map[string]*checkRun
}

// join returns the run of ch in progress, or starts one for the probe
// whose context is ctx. A run has its own context, bounded by timeout and
// cancelled by no probe, so that a probe that gives up does not cancel
// the run the others wait for; it carries the values of the probe that
// started it (its trace, its logger), as a check run by one probe alone
// would see them.
func (rs *checkRuns) join(ctx context.Context, ch Check, timeout time.Duration) *checkRun {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r := rs.running[ch.Name]; r != nil {
		return r
	}
	if rs.running == nil {
		rs.running = map[string]*checkRun{}
	}
	r := &checkRun{done: make(chan struct{})}
	rs.running[ch.Name] = r
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		var err error
		returned := false
		defer func() {
			p := recover()
			switch {
			case p != nil && returned:
				r.err = fmt.Errorf("check failed with a %T whose Error method panicked: %v", err, p)
			case p != nil:
				r.err = fmt.Errorf("check panicked: %v", p)
			case !returned:
				r.err = errors.New("check ended without returning (runtime.Goexit)")
			}
			rs.mu.Lock()
			delete(rs.running, ch.Name)
			rs.mu.Unlock()
			close(r.done)
		}()
		err = ch.Run(ctx)
		returned = true
		if ctx.Err() != nil {
			// A probe that joined the run late may see it end before
			// its own timeout: it is told why as the first probe is,
			// even when the check said nothing was wrong (it overran).
			if err == nil {
				err = fmt.Errorf("no answer within %v", timeout)
			} else {
				err = fmt.Errorf("no answer within %v: %w", timeout, err)
			}
		}
		if err != nil {
			// The message is read here, where a panic is recovered: an
			// error whose Error method panics (a nil *T returned as an
			// error) would crash the probe that reads it.
			err = errors.New(err.Error())
		}
		r.err = err
	}()
	return r
}
