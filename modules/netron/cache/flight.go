package cache

import (
	"context"
	"fmt"

	"github.com/titanframework/titan/modules/netron"
)

// flight is one run of a cacheable method for a key the cache does not
// hold: the calls of the same key that arrive while it runs wait for it
// rather than run the method too. Its fields are set before done is
// closed and read after.
type flight struct {
	done chan struct{}
	// e is the result the run kept; nil when it kept none.
	e *entry
	// err is the run's failure, which the waiting calls share; nil when
	// it succeeded or when its caller's context ended (the failure may be
	// that caller's alone).
	err error
	// again is set when the run failed after its caller's context ended:
	// a waiting call runs the method itself, or waits for another's run.
	again bool
}

// join returns the flight of key k and whether the caller leads it (runs
// the method and then calls land); a caller that does not lead waits for
// done. The flights held are the keys being run, at most one each.
func (c *Cache) join(k string) (f *flight, lead bool) {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	if f := c.flights[k]; f != nil {
		return f, false
	}
	if c.flights == nil {
		c.flights = make(map[string]*flight)
	}
	f = &flight{done: make(chan struct{})}
	c.flights[k] = f
	return f, true
}

// land ends the flight of key k: later calls of k find its result in the
// cache (kept before land), and the waiting ones are woken.
func (c *Cache) land(k string, f *flight) {
	c.fmu.Lock()
	delete(c.flights, k)
	c.fmu.Unlock()
	close(f.done)
}

// await waits for f to land or for ctx to end; the error names the call
// and the context's code.
func await(ctx context.Context, call *netron.Call, f *flight) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return netron.NewError(netron.CodeOf(ctx.Err()), fmt.Errorf("%s.%s: %w while waiting for the same call made by another caller to answer", call.Service, call.Method, ctx.Err()))
	}
}
