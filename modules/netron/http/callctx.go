package http

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/titanframework/titan/internal/afterfuncs"
)

// callCtx is the context of one call through the gateway. It carries the
// values of the request's context and ends at the first of: the end of the
// request's context (the client went away, or a middleware's deadline),
// the call's timeout, Shutdown giving up on the calls in flight, and the
// end of the call.
//
// Serving a call costs one allocation for it: the timer and the
// registrations with the request's and the handler's contexts are made
// only when someone waits on Done or hangs a context or an AfterFunc on
// this one (a method that watches its context, a stream). Until then Err
// looks at the sources itself, so a method that only polls Err sees the
// same thing.
type callCtx struct {
	parent   context.Context // the request's context
	stopped  context.Context // ends when Shutdown gives up waiting
	deadline time.Time       // the call's own deadline; zero when none

	mu       sync.Mutex
	done     chan struct{}
	err      error
	armed    bool
	byParent bool // it ended because the request's context did
	timer    *time.Timer
	hooks    [2]func() bool // stop the AfterFuncs on parent and stopped
	after    afterfuncs.List
}

// callContext returns the context of a call of r, bounded by timeout (none
// when 0), and the function that ends it when the call returns.
func (h *Handler) callContext(r *http.Request, timeout time.Duration) (context.Context, func()) {
	c := &callCtx{parent: r.Context(), stopped: h.stopped}
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
	}
	return c, c.cancel
}

func (c *callCtx) Deadline() (time.Time, bool) {
	d, ok := c.parent.Deadline()
	if c.deadline.IsZero() || ok && d.Before(c.deadline) {
		return d, ok
	}
	return c.deadline, true
}

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	if c.done != nil {
		d := c.done
		c.mu.Unlock()
		return d
	}
	c.done = make(chan struct{})
	d := c.done
	var after afterfuncs.Taken
	if c.err != nil {
		close(d)
	} else if err := c.poll(); err != nil {
		after = c.end(err)
	} else if !c.armed {
		c.arm()
	}
	c.mu.Unlock()
	after.Run()
	return d
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	var after afterfuncs.Taken
	if c.err == nil {
		if err := c.poll(); err != nil {
			after = c.end(err)
		}
	}
	err := c.err
	c.mu.Unlock()
	after.Run()
	return err
}

// Value answers from the request's context, except the key by which
// context.Cause finds the innermost standard cancelable context when this
// context did not end with the request's: that one holds the request's
// cause, which may differ from this context's end (the call's deadline
// passed, then the request ended). When the request's context ended it,
// Cause reports the request's cause.
func (c *callCtx) Value(key any) any {
	if key == causeKey && causeKey != nil {
		c.mu.Lock()
		byParent := c.byParent
		c.mu.Unlock()
		if !byParent {
			return nil
		}
	}
	return c.parent.Value(key)
}

// AfterFunc lets context.WithCancel, WithTimeout and AfterFunc on top of a
// call's context follow it without a goroutine each.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	var after afterfuncs.Taken
	if c.err == nil {
		if err := c.poll(); err != nil {
			after = c.end(err)
		}
	}
	if c.err != nil {
		c.mu.Unlock()
		after.Run()
		go f()
		return func() bool { return false }
	}
	if !c.armed {
		c.arm()
	}
	stop = c.after.Add(&c.mu, f)
	c.mu.Unlock()
	return stop
}

func (c *callCtx) String() string { return "httptransport.callContext" }

// poll reports the error the context ends with when one of its sources
// has ended, else nil. c.mu is held.
func (c *callCtx) poll() error {
	if err := c.parent.Err(); err != nil {
		c.byParent = true
		return err
	}
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	if c.stopped.Err() != nil {
		return context.Canceled
	}
	return nil
}

// arm makes the sources end the context by themselves. c.mu is held; the
// functions run on goroutines of their own (AfterFunc, the timer), so they
// wait for the lock.
func (c *callCtx) arm() {
	c.armed = true
	c.hooks[0] = context.AfterFunc(c.parent, func() { c.finishFrom(c.parent.Err(), true) })
	c.hooks[1] = context.AfterFunc(c.stopped, func() { c.finish(context.Canceled) })
	if !c.deadline.IsZero() {
		c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.finish(context.DeadlineExceeded) })
	}
}

// end ends the context with err and returns the functions to run. c.mu is
// held and c.err is nil.
func (c *callCtx) end(err error) afterfuncs.Taken {
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.armed {
		c.hooks[0]()
		c.hooks[1]()
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	return c.after.Take()
}

// finish ends the context with err unless it has ended.
func (c *callCtx) finish(err error) { c.finishFrom(err, false) }

// finishFrom is finish, recording whether the request's context ended it.
func (c *callCtx) finishFrom(err error, byParent bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.byParent = byParent
	after := c.end(err)
	c.mu.Unlock()
	after.Run()
}

// endedByRequest reports whether ctx, a call's context (callContext),
// has ended because the request's context did: the client went away, or
// a deadline set outside the gateway (a middleware's) passed, rather than
// the call's own timeout.
func endedByRequest(ctx context.Context) bool {
	c, ok := ctx.(*callCtx)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil && c.byParent
}

// cancel ends the context when the call returns.
func (c *callCtx) cancel() { c.finish(context.Canceled) }

// causeKey is the key context.Cause asks a context's Value for to find the
// standard cancelable context it takes the cause from; a probe records it.
// TestCallContextCause fails if a Go release finds the cause another way.
var causeKey = func() any {
	var p keyProbe
	_ = context.Cause(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}

func (p *keyProbe) Err() error { return context.Canceled }
