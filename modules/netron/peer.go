package netron

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Peer is the other end of a connection: a process that dialled this one,
// or one this process dialled. Either side may call the other. A dialled
// Peer reconnects after a drop (unless reconnect is disabled) and keeps its
// event subscriptions; calls made while it is disconnected fail with
// unavailable.
type Peer struct {
	n        *Netron
	scheme   string
	dialled  bool
	own      bool   // the peer owns its Netron (package-level Dial)
	noRedial bool   // the connection cannot be dialled again (ipc)
	addr     string // the dialled address
	log      *slog.Logger

	cur      atomic.Pointer[conn]
	inflight atomic.Int64 // calls and streams this side has open on the peer (InFlight)
	calls    CallConn     // set instead of cur for a door that carries calls (http://)

	mu         sync.Mutex
	remoteID   string
	closed     bool
	closeCh    chan struct{}
	done       chan struct{}              // closed when the peer is closed and its goroutines ended
	resolved   map[string]string          // target -> definition id, for the current connection
	toResolve  []string                   // targets to resolve again after a reconnect
	authResult any                        // the authenticator's answer for the connection's token
	identity   atomic.Pointer[any]        // SetIdentity
	handlers   map[string][]*eventHandler // events this side subscribed to on the peer
	remoteSubs map[string]func()          // events the peer subscribed to here -> unsubscribe
	lostErr    error                      // why the last connection ended (connLost)
	deliverMu  sync.Mutex                 // held while the handlers of a received event run (deliver)
	subMu      sync.Mutex                 // held while a subscribe or unsubscribe task is sent with the change of handlers it makes
	restoreMu  sync.Mutex                 // held by the restore after a reconnect

	// The events the peer emitted that wait for their handlers (see
	// orderedEvent), in arrival order over its connections: those of a
	// lost connection still waiting go before those of the one that
	// replaced it. evCount and evBytes count them and the one being
	// delivered, and what they hold.
	emu              sync.Mutex
	events           []queuedEvent
	evCount, evBytes int
	evBusy           bool
}

func newPeer(n *Netron, t transport.Conn, scheme string, dialled bool) *Peer {
	p := &Peer{
		n: n, scheme: scheme, dialled: dialled,
		log:        n.log.With("peer", t.RemoteAddr()),
		closeCh:    make(chan struct{}),
		done:       make(chan struct{}),
		resolved:   map[string]string{},
		handlers:   map[string][]*eventHandler{},
		remoteSubs: map[string]func(){},
	}
	p.cur.Store(newConn(p, t))
	return p
}

// ID returns the peer's Netron id as announced in the handshake, or "" if it
// has not announced one.
func (p *Peer) ID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remoteID
}

// RemoteAddr returns the address of the peer's current connection, or
// while a dialled peer reconnects the address it dials, without the
// credentials it may carry (a password, a token).
func (p *Peer) RemoteAddr() string {
	if c := p.cur.Load(); c != nil {
		return c.t.RemoteAddr()
	}
	return shownAddr(p.addr)
}

// InFlight returns the number of calls this side has waiting for their
// answer on the peer plus its streams not yet ended: what a
// least-pending balancer compares.
func (p *Peer) InFlight() int { return int(p.inflight.Load()) }

// Connected reports whether the peer has a live connection now: false
// while a dialled peer reconnects and after it is closed. A peer over a
// door that carries calls (http://) is connected until closed.
func (p *Peer) Connected() bool {
	if p.calls != nil {
		return !p.isClosed()
	}
	c := p.cur.Load()
	return c != nil && c.ctx.Err() == nil
}

// Done is closed when the peer has been closed for good.
func (p *Peer) Done() <-chan struct{} { return p.done }

// start runs the connection's goroutines (server side: after accept).
func (p *Peer) start() {
	c := p.cur.Load()
	c.watchIdle()
	p.n.wg.Add(1)
	go func() {
		defer p.n.wg.Done()
		c.run()
		p.connLost(c)
	}()
}

// sendID sends the server's id message (NETRON-WIRE.md §4.2).
func (p *Peer) sendID() {
	c := p.cur.Load()
	_ = c.sendRaw(p.n.handshakeMessage("id"))
}

// Close closes the peer and its connection; in-flight calls fail with
// unavailable. A closed peer does not reconnect.
func (p *Peer) Close() error {
	if p.calls != nil {
		return p.closeCalls()
	}
	if !p.markClosed() {
		return nil
	}
	if c := p.cur.Load(); c != nil {
		c.close(errPeerClosed)
	}
	if !p.dialled {
		return nil
	}
	<-p.done
	if p.own {
		return p.n.Stop(context.Background())
	}
	return nil
}

var (
	errPeerClosed = NewError(CodeUnavailable, notRun("connection closed"))
	errConnLost   = NewError(CodeUnavailable, errors.New("connection lost"))
	errDraining   = NewError(CodeUnavailable, notRun("server is shutting down"))
)

// connLost is called when a connection's goroutines ended.
func (p *Peer) connLost(c *conn) {
	p.mu.Lock()
	for _, unsub := range p.remoteSubs {
		unsub()
	}
	clear(p.remoteSubs)
	for target := range p.resolved {
		// Listed already when the connection flapped before the restore
		// of the last reconnect ran.
		if !slices.Contains(p.toResolve, target) {
			p.toResolve = append(p.toResolve, target)
		}
	}
	clear(p.resolved)
	if err := context.Cause(c.ctx); err != nil {
		p.lostErr = err
	}
	closed := p.closed
	p.mu.Unlock()
	if !p.dialled {
		p.n.removePeer(p)
		close(p.done)
		return
	}
	if closed || !p.redials() {
		p.cur.Store(nil)
		p.n.removePeer(p)
		p.markClosed()
		close(p.done)
		return
	}
	p.cur.Store(nil)
	go p.reconnect()
}

// redials reports whether the peer, one this side dialled, dials again
// when its connection ends (not over ipc, nor with reconnecting off).
func (p *Peer) redials() bool { return !p.noRedial && !p.n.cfg.Reconnect.Disabled }

// markClosed marks the peer closed; it reports false when it already was.
func (p *Peer) markClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.closed = true
	close(p.closeCh)
	return true
}

// Ping sends a PING and waits for its echo, at most Config.RequestTimeout
// when ctx has no deadline, as a call does.
func (p *Peer) Ping(ctx context.Context) (time.Duration, error) {
	if p.calls != nil {
		return 0, p.errNotOverCalls("a ping")
	}
	c, err := p.conn() // a closed or reconnecting peer says so, as for a call
	if err != nil {
		return 0, err
	}
	timeout := time.Duration(0)
	if _, ok := ctx.Deadline(); !ok {
		timeout = p.n.cfg.RequestTimeout
	}
	start := time.Now()
	_, err = c.requestTimeout(ctx, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypePing, Impulse: true, Data: start.UnixMilli()}, timeout)
	return time.Since(start), err
}
