package netron

import (
	"sync/atomic"
	"time"
)

// Calls are served by worker goroutines that outlive one call: a worker
// that has served a call waits for the next, and exits once it has been
// idle for one to two workerIdle periods. A fresh goroutine per call would
// start on a small stack and grow it (morestack copies it) on most calls,
// since decoding and the method value's call need a deep stack, and the go
// statement would allocate the call's closure; a worker pays both once.
// There are never more workers than calls being served at a peak (a call
// goes to an idle worker, or starts one), so Config.MaxCallsPerPeer and
// the connection caps bound them; they exit when idle and when the Netron
// stops, so none outlives it. grpc-go's server workers are the same idea.
//
// Idle workers are not timed one by one (a timer reset per call costs
// about a tenth of a small call): a janitor goroutine, running while there
// are workers, closes a tick channel every workerIdle; a worker that sees
// two ticks without work exits.
var workerIdle = time.Second // a variable for tests

// workers is a Netron's pool of call workers.
type workers struct {
	work    chan callWork                 // calls for idle workers
	tick    atomic.Pointer[chan struct{}] // closed by the janitor every workerIdle
	ticks   atomic.Uint64                 // ticks so far
	alive   atomic.Int32                  // workers running
	janitor atomic.Bool                   // the janitor runs
}

// callWork is a call for a worker.
type callWork struct {
	c    *conn
	call *Call
}

func (w *workers) init() {
	w.work = make(chan callWork)
	ch := make(chan struct{})
	w.tick.Store(&ch)
}

// serve hands a call to an idle worker, or starts one for it.
func (n *Netron) serve(c *conn, call *Call) {
	select {
	case n.workers.work <- callWork{c, call}:
	default:
		n.workers.alive.Add(1)
		if n.workers.janitor.CompareAndSwap(false, true) {
			go n.janitor()
		}
		go n.worker(callWork{c, call})
	}
}

// worker serves w, then the calls it is handed, until it has seen two
// janitor ticks without work or the Netron stops.
func (n *Netron) worker(w callWork) {
	p := &n.workers
	defer p.alive.Add(-1)
	for {
		w.c.serveCall(w.call)
		since := p.ticks.Load()
	wait:
		tick := p.tick.Load()
		select {
		case w = <-p.work:
		case <-*tick:
			if p.ticks.Load()-since < 2 {
				goto wait
			}
			return
		case <-n.stopped:
			return
		}
	}
}

// janitor ticks for the idle workers while there are any.
func (n *Netron) janitor() {
	p := &n.workers
	t := time.NewTicker(workerIdle)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-n.stopped:
			p.janitor.Store(false)
			return
		}
		p.ticks.Add(1)
		fresh := make(chan struct{})
		close(*p.tick.Swap(&fresh))
		if p.alive.Load() > 0 {
			continue
		}
		p.janitor.Store(false)
		// A worker started since the load above found the janitor running:
		// keep running for it.
		if p.alive.Load() == 0 || !p.janitor.CompareAndSwap(false, true) {
			return
		}
	}
}
