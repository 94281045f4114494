package netron

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// hub shares the connections a Netron's pools make: one set per address,
// whatever service the pools call there (two titan.Remote clients of
// services served by one process use the same connections). A set starts
// with one connection and grows, up to Config.Pool.MaxConns, while every
// connection it has carries Config.Pool.BusyAt calls or more; a
// connection it grew is closed again once it has carried no call for
// Config.Pool.IdleTimeout. A connection closed for good (one that does
// not reconnect: Config.Reconnect.Disabled, ipc) is dropped from its set;
// when it was the set's last, it stays (a call finding no connection up
// fails naming it: Pool.Peer) until the address, dialled again as a pool
// redials, answers. The
// set closes when the last pool using it lets it go: its dials end then,
// and release returns once its goroutines have.
type hub struct {
	n  *Netron
	mu sync.Mutex
	by map[string]*hubSet
}

// hubSet is the connections to one address.
type hubSet struct {
	h    *hub
	addr string
	refs int // the pools using it (hub.mu)

	conns   atomic.Pointer[[]*hubConn] // the first one stays (unless closed for good: lost); copied on write
	growing atomic.Bool                // a connection is being dialled
	ctx     context.Context            // ended by release when the set closes
	cancel  context.CancelFunc
	running sync.WaitGroup // the goroutines of watch, grow, redial and shrink: release waits for them

	mu     sync.Mutex // changes of conns, closed, idle
	closed bool
	idle   *time.Timer // the idle check of the grown connections
}

// hubConn is one connection of a set; used is set by the calls that pick
// an added one and cleared by the idle check.
type hubConn struct {
	p    *Peer
	used atomic.Bool
}

// acquire returns the set of addr, dialling its first connection when no
// pool uses it yet; the caller lets it go with release.
func (h *hub) acquire(ctx context.Context, addr string) (*hubSet, error) {
	h.mu.Lock()
	if s := h.by[addr]; s != nil {
		s.refs++
		h.mu.Unlock()
		return s, nil
	}
	h.mu.Unlock()
	p, err := h.n.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.by[addr]; s != nil { // another pool dialled it meanwhile
		s.refs++
		_ = p.Close()
		return s, nil
	}
	if h.by == nil {
		h.by = map[string]*hubSet{}
	}
	s := &hubSet{h: h, addr: addr, refs: 1}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	c := &hubConn{p: p}
	s.conns.Store(&[]*hubConn{c})
	s.watch(c)
	s.running.Go(func() { // the set's dials end when the Netron stops, too
		select {
		case <-h.n.stopped:
			s.cancel()
		case <-s.ctx.Done():
		}
	})
	h.by[addr] = s
	return s, nil
}

// release lets s go; when no pool uses it any more it returns its
// connections, for the caller to close (at once, or once their calls are
// answered).
func (h *hub) release(s *hubSet) []*Peer {
	h.mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(h.by, s.addr)
	}
	h.mu.Unlock()
	if !last {
		return nil
	}
	s.mu.Lock()
	s.closed = true // no goroutine starts from now on (they start under s.mu)
	s.cancel()
	if s.idle != nil {
		s.idle.Stop()
	}
	var ps []*Peer
	for _, c := range *s.conns.Load() {
		ps = append(ps, c.p)
	}
	s.mu.Unlock()
	s.running.Wait() // their dials end with s.ctx
	return ps
}

// pick returns the connection of s that carries the fewest calls,
// preferring connected ones, and has another dialled when all of them are
// busy.
func (s *hubSet) pick() *Peer {
	cs := *s.conns.Load()
	best := cs[0]
	bestN, bestUp := best.p.InFlight(), best.p.Connected()
	for _, c := range cs[1:] {
		n, up := c.p.InFlight(), c.p.Connected()
		if up && (!bestUp || n < bestN) {
			best, bestN, bestUp = c, n, up
		}
	}
	if best != cs[0] && !best.used.Load() { // the first one is never closed
		best.used.Store(true)
	}
	pc := &s.h.n.cfg.Pool
	if bestN >= pc.BusyAt && len(cs) < pc.MaxConns && best.p.calls == nil {
		s.grow()
	}
	return best.p
}

// down says, for the error of a call that finds no connection of s up,
// its address and why: its connection is closed (redial replaces it) or
// reconnecting, with the cause its last connection ended with.
func (s *hubSet) down() string {
	p := (*s.conns.Load())[0].p
	what := "reconnecting"
	if p.isClosed() || !p.redials() { // closed, or about to be (connLost)
		what = "connection closed"
	}
	p.mu.Lock()
	cause := p.lostErr
	p.mu.Unlock()
	var e *Error
	switch {
	case errors.As(cause, &e):
		what += ": " + e.Message()
	case cause != nil:
		what += ": " + cause.Error()
	}
	return shownAddr(s.addr) + ": " + what
}

// inFlight returns the calls in flight on the connections of s.
func (s *hubSet) inFlight() int {
	n := 0
	for _, c := range *s.conns.Load() {
		n += c.p.InFlight()
	}
	return n
}

// connected reports whether a connection of s is up.
func (s *hubSet) connected() bool {
	for _, c := range *s.conns.Load() {
		if c.p.Connected() {
			return true
		}
	}
	return false
}

// grow dials one more connection in the background, unless one is being
// dialled; the calls meanwhile go to the connections there are.
func (s *hubSet) grow() {
	if !s.growing.CompareAndSwap(false, true) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.growing.Store(false)
		return
	}
	n := s.h.n
	s.running.Go(func() {
		defer s.growing.Store(false)
		ctx, cancel := context.WithTimeout(s.ctx, n.cfg.RequestTimeout)
		defer cancel()
		p, err := n.Dial(ctx, s.addr)
		if err != nil {
			if s.ctx.Err() == nil { // not closed meanwhile
				n.log.Warn("could not open another connection to a busy instance", "addr", shownAddr(s.addr), "error", err)
			}
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		cs := *s.conns.Load()
		if s.closed || len(cs) >= n.cfg.Pool.MaxConns {
			_ = p.Close()
			return
		}
		c := &hubConn{p: p}
		c.used.Store(true)
		next := append(slices.Clone(cs), c)
		s.conns.Store(&next)
		s.watch(c)
		n.log.Debug("opened another connection to a busy instance", "addr", shownAddr(s.addr), "connections", len(next))
		if s.idle == nil {
			s.idle = time.AfterFunc(n.cfg.Pool.IdleTimeout, s.shrink)
		} else {
			s.idle.Reset(n.cfg.Pool.IdleTimeout)
		}
	})
}

// shrink closes the grown connections that carried no call since the last
// check and carry none now, and checks again later while some remain.
func (s *hubSet) shrink() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	cs := *s.conns.Load()
	keep := []*hubConn{cs[0]}
	var idle []*Peer
	for _, c := range cs[1:] {
		if c.used.Swap(false) || c.p.InFlight() > 0 {
			keep = append(keep, c)
			continue
		}
		idle = append(idle, c.p)
	}
	if len(idle) > 0 {
		s.conns.Store(&keep)
		s.h.n.log.Debug("closed idle connections to an instance", "addr", shownAddr(s.addr), "closed", len(idle), "connections", len(keep))
		s.running.Go(func() {
			for _, p := range idle {
				_ = p.Close()
			}
		})
	}
	if len(keep) > 1 {
		s.idle.Reset(s.h.n.cfg.Pool.IdleTimeout)
	}
}

// watch drops c from s once it is closed for good (see lost), unless the
// set closes first. It is called before s is shared or under s.mu while s
// is open.
func (s *hubSet) watch(c *hubConn) {
	s.running.Go(func() {
		select {
		case <-c.p.Done():
			s.lost(c)
		case <-s.ctx.Done():
		}
	})
}

// lost drops c, closed for good, from s; the last connection of s stays
// until redial replaces it.
func (s *hubSet) lost(c *hubConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := *s.conns.Load()
	if s.closed || !slices.Contains(cs, c) { // closed by shrink
		return
	}
	if len(cs) == 1 {
		s.running.Go(func() { s.redial(c) })
		return
	}
	next := slices.DeleteFunc(slices.Clone(cs), func(x *hubConn) bool { return x == c })
	s.conns.Store(&next)
}

// redial dials the address of s again, as a pool redials (after
// redialFirst, then twice as long each time up to redialMax), until it
// answers, the set closes or the Netron stops; the connection that
// answers replaces dead.
func (s *hubSet) redial(dead *hubConn) {
	n := s.h.n
	delay := redialFirst
	t := time.NewTimer(delay)
	defer t.Stop()
	for attempt := 1; ; attempt++ {
		select {
		case <-s.ctx.Done():
			return
		case <-n.stopped:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		p, err := n.Dial(ctx, s.addr)
		cancel()
		if err == nil {
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				_ = p.Close()
				return
			}
			c := &hubConn{p: p}
			rest := slices.DeleteFunc(slices.Clone(*s.conns.Load()), func(x *hubConn) bool { return x == dead })
			next := append([]*hubConn{c}, rest...)
			s.conns.Store(&next)
			s.watch(c)
			s.mu.Unlock()
			n.log.Info("reached an instance again whose connection had closed", "addr", shownAddr(s.addr), "attempts", attempt)
			return
		}
		n.log.Debug("could not reach an instance whose connection closed", "addr", shownAddr(s.addr), "attempt", attempt, "error", err)
		delay = min(delay*2, redialMax)
		t.Reset(delay)
	}
}
