package netron

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/internal/logevery"
	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// conn is the state of one connection of a peer.
type conn struct {
	p   *Peer
	t   transport.Conn
	ctx context.Context // cancelled when the connection ends
	end context.CancelCauseFunc

	ext         atomic.Bool  // the Go-to-Go extension is on
	window      atomic.Int32 // the peer's receive window for our streams
	windowBytes atomic.Int64 // its window in bytes; 0: none

	q     *session.Queue // what waits to be written, and the writer (session.Queue.Run)
	wdone chan struct{}  // closed when the writer has stopped

	// served holds the requests being served, a slot each (see
	// dispatch): the reader waits while none is free; the peer's cancel
	// finds a call by id; the connection's end cancels them all.
	served *session.Served[*callCtx]
	// rd reads the connection; idleTimer checks its count of reads, and
	// of bytes where the transport counts them, every Config.IdleTimeout
	// (see watchIdle).
	rd        *session.Reader
	idleMark  uint64 // reads at the last check (idleTimer's goroutine only)
	idleBytes uint64 // bytes read at the last check (idleTimer's goroutine only)
	idleTimer atomic.Pointer[time.Timer]
	// probes counts the idle probes the peer answered (read by tests).
	probes atomic.Uint64

	pending session.Pending

	sending *session.Outbounds[*sendStream] // the streams this side produces

	inbound session.Inbounds // the streams the peer produces for this side

	bad logevery.Limiter // malformed input's log records

	// evDropped counts the events not sent: the send queue was full (see
	// Peer.sendEvent).
	evDropped atomic.Uint64
	// evUnanswered counts the events sent whose answer has not come;
	// evAnsweredCh has a value once it drops to zero (see
	// eventsAnswered).
	evUnanswered atomic.Int64
	evAnsweredCh chan struct{}

	closeOnce sync.Once

	strs *protocol.Interner // metadata strings (see headerStrings)

	folded bool // its traffic is in the Netron's totals (Netron.traffic.mu)
}

// A connection keeps the metadata strings its peer repeats on every call
// (keys, a token) once: at most headerStrings of them, of at most
// headerStringLen bytes each, so at most 32 KiB per connection.
const (
	headerStrings   = 64
	headerStringLen = 512
)

func newConn(p *Peer, t transport.Conn) *conn {
	ctx, end := context.WithCancelCause(context.Background())
	c := &conn{
		p: p, t: t, ctx: ctx, end: end,
		wdone:        make(chan struct{}),
		evAnsweredCh: make(chan struct{}, 1),
		strs:         protocol.NewInterner(headerStrings, headerStringLen),
	}
	cfg := &p.n.cfg
	c.q = session.NewQueue(t, session.Limits{
		MaxBytes:     int64(cfg.MaxQueuedBytesPerPeer),
		MaxFrameSize: cfg.MaxFrameSize,
		StallTimeout: cfg.WriteStallTimeout,
	}, p.n.budget, c.stalled)
	c.rd = session.NewReader(t, p.n.limits, reading{c})
	c.served = session.NewServed[*callCtx](cfg.MaxCallsPerPeer)
	c.sending = session.NewOutbounds[*sendStream](cfg.MaxStreamsPerPeer)
	c.pending.Init(p.n.sweeper)
	c.inbound.Init(cfg.MaxStreamsPerPeer, cfg.MaxStreamBytesPerPeer, cfg.StreamIdleTimeout, streamErrors, c.stopStream)
	c.window.Store(int32(p.n.cfg.StreamWindow))
	return c
}

// eventAnswered counts the answer to an event sent (see Peer.sendEvent):
// a task's answer that nobody waits for.
func (c *conn) eventAnswered() {
	for {
		n := c.evUnanswered.Load()
		if n <= 0 { // a task's answer after its caller gave up
			return
		}
		if c.evUnanswered.CompareAndSwap(n, n-1) {
			if n == 1 {
				select {
				case c.evAnsweredCh <- struct{}{}:
				default:
				}
			}
			return
		}
	}
}

// eventsAnswered waits until every event sent has been answered, the
// connection has ended or ctx ends. Stop closes a connection after it:
// a connection closed with the answers unread is reset, and the peer
// loses the events it had not read yet.
func (c *conn) eventsAnswered(ctx context.Context) {
	for c.evUnanswered.Load() > 0 {
		select {
		case <-c.evAnsweredCh:
		case <-c.ctx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// run reads until the connection ends, with the writer alongside.
func (c *conn) run() {
	go c.writeLoop()
	err := c.readLoop()
	c.close(err)
	if n := c.bad.End(); n > 0 {
		c.p.log.Warn("malformed messages dropped without a log record", "count", n)
	}
	<-c.wdone
	c.p.n.fold(c)
	c.failAll()
}

// close ends the connection once.
func (c *conn) close(err error) {
	c.closeOnce.Do(func() {
		if err == nil {
			err = errConnLost
		}
		c.q.Close(err) // senders get err; those waiting for room wake
		c.end(err)
		if t := c.idleTimer.Load(); t != nil {
			t.Stop()
		}
		// The streams first, with the connection's end as their cause
		// (their contexts would otherwise only see their call's cancel).
		c.sending.Each(func(s *sendStream) { s.cancel(err) })
		for _, cc := range c.served.End() {
			cc.cancel() // the calls in flight
		}
		c.pending.Forget()
		c.t.Close()
	})
}

// failAll fails what was waiting on the connection.
func (c *conn) failAll() {
	c.pending.Forget()
	c.pending.FailAll(errConnLost)
	c.inbound.FailAll(errConnLost)
}

// reply sends a successful response.
func (c *conn) reply(id uint32, typ protocol.Type, result any) {
	err := c.send(&protocol.Packet{ID: id, Type: typ, Data: result})
	if err != nil && c.ctx.Err() == nil {
		c.p.log.Error("could not encode a result", "id", id, "error", err)
		if CodeOf(err) == CodeResourceExhausted { // over the frame limit: the caller may ask for less
			c.replyError(id, typ, Errorf(CodeResourceExhausted, "the result is too large to send: %s (netron.maxFrameSize)", asError(err).Message()))
			return
		}
		c.replyError(id, typ, NewError(CodeInternal, errors.New(internalMessage)))
	}
}

// replyError sends an error response.
func (c *conn) replyError(id uint32, typ protocol.Type, err error) { c.replyErr(id, typ, err, false) }

// replyRefused answers a request the server refused before running it
// (it is stopping): the caller may send it to another instance.
func (c *conn) replyRefused(id uint32, typ protocol.Type, err error) { c.replyErr(id, typ, err, true) }

func (c *conn) replyErr(id uint32, typ protocol.Type, err error, refused bool) {
	if e := c.send(&protocol.Packet{ID: id, Type: typ, Error: true, Data: toWire(err, refused)}); e != nil && c.ctx.Err() == nil {
		c.p.log.Error("could not send an error response", "id", id, "error", e)
	}
}

// writeLoop runs the writer until the connection ends; a failed write ends
// it.
func (c *conn) writeLoop() {
	defer close(c.wdone)
	c.q.Run(func(err error) { c.close(NewError(CodeUnavailable, fmt.Errorf("write: %w", err))) })
}

// stalled closes a connection whose peer reads nothing: senders waited
// Config.WriteStallTimeout for room while no write completed.
func (c *conn) stalled(waited time.Duration, queued int64) {
	c.p.log.Warn("closing connection: the peer reads nothing", "waited", waited, "queued_bytes", queued)
	c.close(NewError(CodeUnavailable, fmt.Errorf("the peer read nothing for %v while %d bytes waited to be written", waited, queued)))
}

// coded gives the errors of the send queue their codes: a message over
// the frame limit is resource_exhausted; the others are the connection's
// end, coded already.
func coded(err error) error {
	if _, ok := err.(*session.FrameTooLargeError); ok {
		return NewError(CodeResourceExhausted, err)
	}
	return err
}

// send encodes and queues a packet.
func (c *conn) send(pkt *protocol.Packet) error { return coded(c.q.SendPacket(pkt)) }

// sendEncoded checks an encoded packet against the frame limit and queues
// it; the queue owns w afterwards.
func (c *conn) sendEncoded(w *session.Buf) error { return coded(c.q.Send(w)) }

// sendRaw queues one message; the connection owns b afterwards. It blocks
// while the queue is full.
func (c *conn) sendRaw(b []byte) error { return c.q.SendRaw(b) }

// appendItem sends an item of the stream s (see session.Queue.AppendItem);
// only the stream's producer calls it.
func (c *conn) appendItem(s *sendStream, pkt *protocol.Packet) error {
	size, err := c.q.AppendItem(&s.out, pkt)
	if err != nil {
		return coded(err)
	}
	s.credit.Sent(session.SentCost(size))
	return nil
}

// flush waits until everything queued on the connection is written, the
// connection ends or ctx ends.
func (c *conn) flush(ctx context.Context) { c.q.Flush(ctx) }
