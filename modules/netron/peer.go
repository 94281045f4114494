package netron

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
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

	cur atomic.Pointer[conn]

	mu         sync.Mutex
	remoteID   string
	closed     bool
	closeCh    chan struct{}
	done       chan struct{}              // closed when the peer is closed and its goroutines ended
	resolved   map[string]string          // target -> definition id, for the current connection
	toResolve  []string                   // targets to resolve again after a reconnect
	authResult any                        // the authenticator's answer for the connection's token
	handlers   map[string][]*eventHandler // events this side subscribed to on the peer
	remoteSubs map[string]func()          // events the peer subscribed to here -> unsubscribe
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

// RemoteAddr returns the address of the peer's current connection.
func (p *Peer) RemoteAddr() string {
	if c := p.cur.Load(); c != nil {
		return c.t.RemoteAddr()
	}
	return p.addr
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
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closeCh)
	p.mu.Unlock()
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
	errPeerClosed = NewError(CodeUnavailable, errors.New("connection closed"))
	errConnLost   = NewError(CodeUnavailable, errors.New("connection lost"))
	errDraining   = NewError(CodeUnavailable, errors.New("server is shutting down"))
)

// connLost is called when a connection's goroutines ended.
func (p *Peer) connLost(c *conn) {
	p.mu.Lock()
	for _, unsub := range p.remoteSubs {
		unsub()
	}
	clear(p.remoteSubs)
	for target := range p.resolved {
		p.toResolve = append(p.toResolve, target)
	}
	clear(p.resolved)
	closed := p.closed
	p.mu.Unlock()
	if !p.dialled {
		p.n.removePeer(p)
		close(p.done)
		return
	}
	if closed || p.noRedial || p.n.cfg.Reconnect.Disabled {
		p.cur.Store(nil)
		p.n.removePeer(p)
		p.markClosed()
		close(p.done)
		return
	}
	p.cur.Store(nil)
	go p.reconnect()
}

func (p *Peer) markClosed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.closeCh)
	}
}

// conn is the state of one connection of a peer.
type conn struct {
	p   *Peer
	t   transport.Conn
	ctx context.Context // cancelled when the connection ends
	end context.CancelCauseFunc

	ext    atomic.Bool  // the Go-to-Go extension is on
	window atomic.Int32 // the peer's receive window for our streams
	binary bool         // a packet has been decoded (reader goroutine only)

	head       atomic.Pointer[wbuf] // the send queue, newest first (see enqueue)
	qbytes     atomic.Int64         // bytes queued, until written
	werr       atomic.Pointer[error]
	room       atomic.Pointer[chan struct{}] // closed when a write makes room (see waitRoom)
	waiters    atomic.Int32                  // senders waiting for room
	written    atomic.Uint64                 // writes completed
	stallArmed atomic.Bool                   // a stall check is pending (see watchStall)
	stallMark  atomic.Uint64                 // written when the stall check was armed
	stallTimer atomic.Pointer[time.Timer]
	wake       chan struct{}
	wdone      chan struct{}

	// slots holds a token per request being served (see dispatch); the
	// reader waits while it is full.
	slots chan struct{}
	// reads counts the messages read; idleTimer checks it every
	// Config.IdleTimeout (see watchIdle).
	reads     atomic.Uint64
	idleMark  uint64 // reads at the last check (idleTimer's goroutine only)
	idleTimer atomic.Pointer[time.Timer]

	pending pendingTable

	smu      sync.Mutex
	handling map[uint32]*callCtx // server side: calls in flight, for cancel
	ended    bool                // the connection ended: calls in flight were cancelled
	sending  map[uint32]*sendStream
	recving  map[uint32]*recvStream
	lastRecv *recvStream // the stream of the last item read (reader goroutine only)
	slab     []byte      // where small stream items and events are copied (reader goroutine only)
	// cancelled holds the streams this side cancelled (oldest first in
	// cancelledQ, at most maxCancelled): items still in flight for them are
	// dropped instead of re-creating the stream.
	cancelled  map[uint32]struct{}
	cancelledQ []uint32

	bad badInputLog

	emu    sync.Mutex
	events []queuedEvent
	evBusy bool

	closeOnce sync.Once
}

func newConn(p *Peer, t transport.Conn) *conn {
	ctx, end := context.WithCancelCause(context.Background())
	c := &conn{
		p: p, t: t, ctx: ctx, end: end,
		wake:     make(chan struct{}, 1),
		wdone:    make(chan struct{}),
		handling: map[uint32]*callCtx{},
		sending:  map[uint32]*sendStream{},
		recving:  map[uint32]*recvStream{},
	}
	c.room.Store(newRoom())
	c.slots = make(chan struct{}, p.n.cfg.MaxCallsPerPeer)
	c.pending.init()
	c.window.Store(int32(p.n.cfg.StreamWindow))
	return c
}

// run reads until the connection ends, with the writer alongside.
func (c *conn) run() {
	go c.writeLoop()
	err := c.readLoop()
	c.close(err)
	if n := c.bad.end(); n > 0 {
		c.p.log.Warn("malformed messages dropped without a log record", "count", n)
	}
	<-c.wdone
	c.failAll()
}

// close ends the connection once.
func (c *conn) close(err error) {
	c.closeOnce.Do(func() {
		if err == nil {
			err = errConnLost
		}
		c.werr.Store(&err)
		c.end(err) // wakes the senders waiting for room
		if t := c.stallTimer.Load(); t != nil {
			t.Stop()
		}
		if t := c.idleTimer.Load(); t != nil {
			t.Stop()
		}
		c.cancelAll()
		c.pending.forget()
		c.t.Close()
	})
}

// failAll fails what was waiting on the connection.
func (c *conn) failAll() {
	c.pending.forget()
	c.pending.failAll(errConnLost)
	c.smu.Lock()
	recv := c.recving
	c.recving = map[uint32]*recvStream{}
	c.smu.Unlock()
	for _, rs := range recv {
		rs.reaper.Stop()
		rs.fail(errConnLost)
	}
}

// ---- reading ----

func (c *conn) readLoop() error {
	n := c.p.n
	for {
		msg, err := c.t.ReadMessage()
		c.reads.Add(1)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return errConnLost
			}
			if errors.Is(err, transport.ErrFrameTooLarge) {
				c.p.log.Warn("closing connection: frame too large", "error", err)
			} else if errors.Is(err, transport.ErrFrameTimeout) {
				c.p.log.Warn("closing connection: a message was not completed in time", "error", err)
			} else if c.ctx.Err() == nil {
				c.p.log.Debug("read failed", "error", err)
			}
			return NewError(CodeUnavailable, err)
		}
		if len(msg) == 0 {
			continue
		}
		if !c.binary && (msg[0] == '{' || msg[0] == '[') {
			c.handleText(msg)
			continue
		}
		// The message buffer is reused by the next read: keep a copy. The
		// frames of requests and answers come from a pool and go back when
		// served or decoded; stream items and events are kept by their
		// receivers, so theirs are allocated to size.
		var (
			frame []byte
			h     *[]byte
		)
		switch {
		case pooledFrame(msg):
			frame, h = getFrame(len(msg))
		case len(msg) <= maxSlabbed:
			frame = c.slabbed(len(msg))
		default:
			frame = make([]byte, len(msg))
		}
		copy(frame, msg)
		pkt, payload, err := protocol.SplitPacket(frame, n.limits)
		if err != nil {
			if frame[0] == '{' {
				// A client-id after an early packet (NETRON-WIRE.md §4.3:
				// accepted at any time).
				if _, herr := parseHandshake(frame); herr == nil {
					c.handleText(frame)
					continue
				}
			}
			c.badPacket(frame, err)
			continue
		}
		c.binary = true
		c.dispatch(pkt, payload, h)
	}
}

// handleText handles a JSON handshake message.
func (c *conn) handleText(msg []byte) {
	h, err := parseHandshake(msg)
	if err != nil {
		c.logBad("dropped a text message", "error", err)
		return
	}
	c.p.mu.Lock()
	c.p.remoteID = h.ID
	c.p.mu.Unlock()
	if h.Titan != nil && h.Titan.V >= 1 {
		if h.Titan.Window > 0 {
			c.window.Store(int32(h.Titan.Window))
		}
		c.ext.Store(true)
	}
}

// badPacket answers an undecodable request whose id and flags are readable
// with an error, and drops anything else (NETRON-WIRE.md §2.5, §5.7).
func (c *conn) badPacket(frame []byte, err error) {
	c.logBad("dropped a malformed packet", "bytes", len(frame), "error", err)
	if len(frame) < 5 {
		return
	}
	typ := protocol.Type(frame[4] & 0x0f)
	impulse := frame[4]&0x40 != 0
	id := uint32(frame[0])<<24 | uint32(frame[1])<<16 | uint32(frame[2])<<8 | uint32(frame[3])
	if errors.Is(err, protocol.ErrUnknownType) {
		return
	}
	if !impulse {
		// An answer we cannot read: fail the call that waits for it rather
		// than let it wait for its deadline.
		if pc := c.pending.take(id); pc != nil {
			code := CodeInternal
			if errors.Is(err, protocol.ErrTooLarge) {
				code = CodeResourceExhausted
			}
			pc.ch <- response{err: Errorf(code, "unreadable answer from the peer: %v", err)}
		}
		return
	}
	switch typ {
	case protocol.TypeCall, protocol.TypeTask, protocol.TypeGet, protocol.TypeSet:
		c.replyError(id, typ, Errorf(CodeInvalidArgument, "Invalid request payload: %v", err))
	}
}

// dispatch handles one packet; h holds the pooled buffer of its frame,
// which a request gives back once served and an answer hands to its
// caller (see Reply.release); stream items and events are kept by their
// receivers, so their frames are left to the collector.
func (c *conn) dispatch(pkt protocol.Packet, payload protocol.RawValue, h *[]byte) {
	n := c.p.n
	switch pkt.Type {
	case protocol.TypePing:
		if pkt.Impulse {
			_ = c.send(&protocol.Packet{ID: pkt.ID, Type: protocol.TypePing, Data: protocol.RawValue(payload)})
		} else {
			c.pending.resolve(pkt, payload, h)
		}
	case protocol.TypeCall, protocol.TypeTask, protocol.TypeGet, protocol.TypeSet:
		switch {
		case !pkt.Impulse:
			c.pending.resolve(pkt, payload, h)
		case pkt.Type == protocol.TypeCall && pkt.Error:
			if c.ext.Load() {
				c.cancelHandling(pkt.ID)
			}
		case pkt.Type == protocol.TypeTask && c.orderedEvent(pkt, payload):
			// An event: delivered in arrival order (NETRON-WIRE.md §6.4).
		default:
			if !c.takeSlot() { // the connection ended
				putFrame(h)
				return
			}
			if !n.beginCall() {
				c.freeSlot()
				c.replyError(pkt.ID, pkt.Type, errDraining)
				putFrame(h)
				return
			}
			if pkt.Type == protocol.TypeCall {
				call := newServedCall(n.poolCalls)
				call.srv.pkt, call.srv.payload, call.srv.frame = pkt, payload, h
				go c.serveCall(call)
				return
			}
			go func() {
				defer n.inflight.Done()
				c.handleRequest(pkt, payload, nil)
				putFrame(h) // nothing of a served request outlives it
				c.freeSlot()
			}()
		}
	case protocol.TypeStream:
		if pkt.Impulse {
			c.streamChunk(pkt, payload)
		} else if c.ext.Load() {
			c.streamCredit(pkt, payload)
		}
	case protocol.TypeStreamClose, protocol.TypeStreamError:
		c.streamControl(pkt, payload)
	}
}

// takeSlot takes a request slot, waiting while Config.MaxCallsPerPeer
// requests are being served (the connection is not read meanwhile: TCP
// holds the peer back). It reports false when the connection ends first.
func (c *conn) takeSlot() bool {
	select {
	case c.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case c.slots <- struct{}{}:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// freeSlot gives a request slot back.
func (c *conn) freeSlot() { <-c.slots }

// reply sends a successful response.
func (c *conn) reply(id uint32, typ protocol.Type, result any) {
	err := c.send(&protocol.Packet{ID: id, Type: typ, Data: result})
	if err != nil && c.ctx.Err() == nil {
		c.p.log.Error("could not encode a result", "id", id, "error", err)
		c.replyError(id, typ, NewError(CodeInternal, errors.New(internalMessage)))
	}
}

// replyError sends an error response.
func (c *conn) replyError(id uint32, typ protocol.Type, err error) {
	if e := c.send(&protocol.Packet{ID: id, Type: typ, Error: true, Data: toWire(err)}); e != nil && c.ctx.Err() == nil {
		c.p.log.Error("could not send an error response", "id", id, "error", e)
	}
}

func (c *conn) cancelHandling(id uint32) {
	c.smu.Lock()
	cc := c.handling[id]
	c.smu.Unlock()
	if cc != nil {
		cc.cancel()
	}
}

// track registers a served call for cancellation; false when the
// connection has ended (the call's context is cancelled then).
func (c *conn) track(id uint32, cc *callCtx) {
	c.smu.Lock()
	if c.ended {
		c.smu.Unlock()
		cc.cancel()
		return
	}
	c.handling[id] = cc
	c.smu.Unlock()
}

func (c *conn) untrack(id uint32, cc *callCtx) {
	c.smu.Lock()
	if c.handling[id] == cc {
		delete(c.handling, id)
		cc.call = nil
	}
	c.smu.Unlock()
	cc.cancel()
}

// cancelAll cancels the calls in flight when the connection ends.
func (c *conn) cancelAll() {
	c.smu.Lock()
	c.ended = true
	calls := c.handling
	c.handling = map[uint32]*callCtx{}
	c.smu.Unlock()
	for _, cc := range calls {
		cc.cancel()
	}
}

// Ping sends a PING and waits for its echo.
func (p *Peer) Ping(ctx context.Context) (time.Duration, error) {
	c := p.cur.Load()
	if c == nil {
		return 0, errConnLost
	}
	start := time.Now()
	_, err := c.request(ctx, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypePing, Impulse: true, Data: start.UnixMilli()})
	return time.Since(start), err
}
