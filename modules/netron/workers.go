package netron

import (
	"cmp"
	"sync"
	"sync/atomic"
	"time"
)

// Calls are served by worker goroutines that outlive one call. A fresh
// goroutine per call would start on a small stack and grow it (morestack
// copies it) on most calls, since decoding and the method value's call
// need a deep stack, and the go statement would allocate the call's
// closure; a worker pays both once.
//
// The pool is fasthttp's: idle workers wait on a channel of their own, on
// a stack (the most recently idle on top, so a few warm workers take most
// calls); a call goes to the top idle worker, or starts one. There are
// never more workers than calls being served at a peak, so
// Config.MaxCallsPerPeer and the connection caps bound them. A janitor,
// running while there are workers, ticks every workerIdle (or the
// Netron's own tick, which tests set) and stops the workers that stayed
// idle through two ticks; Stop stops them all, so none outlives the
// Netron.
const workerIdle = time.Second

// workers is a Netron's pool of call workers.
type workers struct {
	mu      sync.Mutex
	idle    []*worker // the idle workers, most recently idle last
	stopped bool
	janitor bool // the janitor runs
	ticks   uint64
	alive   atomic.Int32  // workers running
	tick    time.Duration // the janitor's tick; 0: workerIdle
}

// worker is an idle worker's mailbox: a call, or the zero callWork to stop.
type worker struct {
	ch       chan callWork
	idleTick uint64 // the janitor's tick count when it last went idle
}

// callWork is a call for a worker.
type callWork struct {
	c    *conn
	call *Call
}

// serve hands a call to an idle worker, or starts one for it.
func (n *Netron) serve(c *conn, call *Call) {
	p := &n.workers
	p.mu.Lock()
	if k := len(p.idle); k > 0 {
		w := p.idle[k-1]
		p.idle[k-1] = nil
		p.idle = p.idle[:k-1]
		p.mu.Unlock()
		w.ch <- callWork{c, call}
		return
	}
	startJanitor := !p.janitor
	p.janitor = true
	p.alive.Add(1) // under the lock: the janitor counts it before it decides to end
	p.mu.Unlock()
	if startJanitor {
		go n.janitor()
	}
	go n.worker(callWork{c, call})
}

// worker serves cw, then the calls it is handed, until it is told to stop.
func (n *Netron) worker(cw callWork) {
	p := &n.workers
	defer p.alive.Add(-1)
	w := &worker{ch: make(chan callWork, 1)}
	for cw.c != nil {
		cw.c.serveCall(cw.call)
		p.mu.Lock()
		if p.stopped {
			p.mu.Unlock()
			return
		}
		w.idleTick = p.ticks
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		cw = <-w.ch
	}
}

// janitor stops the workers idle through two ticks, until there are none
// or the Netron stops.
func (n *Netron) janitor() {
	p := &n.workers
	t := time.NewTicker(cmp.Or(p.tick, workerIdle))
	defer t.Stop()
	var retired []*worker
	for {
		select {
		case <-t.C:
		case <-n.stopped:
			return
		}
		p.mu.Lock()
		p.ticks++
		// The longest idle are first: stop those idle since two ticks ago.
		k := 0
		for k < len(p.idle) && p.ticks-p.idle[k].idleTick >= 2 {
			k++
		}
		retired = append(retired[:0], p.idle[:k]...)
		p.idle = append(p.idle[:0], p.idle[k:]...)
		done := len(p.idle) == 0 && p.alive.Load() == int32(len(retired))
		if done {
			p.janitor = false
		}
		p.mu.Unlock()
		for i, w := range retired {
			w.ch <- callWork{}
			retired[i] = nil
		}
		if done {
			return
		}
	}
}

// stopWorkers stops the idle workers; the busy ones stop after their call.
func (n *Netron) stopWorkers() {
	p := &n.workers
	p.mu.Lock()
	p.stopped = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		w.ch <- callWork{}
	}
}
