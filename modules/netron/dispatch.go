package netron

import (
	"errors"
	"io"
	"net"

	"github.com/titanframework/titan/modules/netron/internal/compress"
	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// The reading side of a connection: one goroutine reads messages, tells
// handshake text from packets, answers what it cannot decode, and hands
// each packet to the caller waiting for it, a stream, or a goroutine that
// serves it.

// readLoop reads until the connection fails or ends, and returns why.
func (c *conn) readLoop() error {
	err := c.rd.Run()
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

// reading is the conn as the session.Handler of its reader.
type reading struct{ *conn }

// Text implements session.Handler: the handshake message.
func (r reading) Text(msg []byte, strict bool) bool {
	c := r.conn
	h, err := parseHandshake(msg, c.p.n.cfg.MaxPeerIDBytes)
	if err != nil {
		if !strict {
			c.logBad("dropped a text message", "error", err)
		}
		return false
	}
	c.p.mu.Lock()
	c.p.remoteID = h.ID
	c.p.mu.Unlock()
	c.negotiated(h.Titan)
	return true
}

// Packet implements session.Handler.
func (r reading) Packet(pkt protocol.Packet, payload protocol.RawValue, frame *[]byte) {
	r.dispatch(pkt, payload, frame)
}

// Bad implements session.Handler.
func (r reading) Bad(frame []byte, err error) { r.badPacket(frame, err) }

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
	if errors.Is(err, protocol.ErrUnknownType) || errors.Is(err, compress.ErrMalformed) {
		return // whose id is unknown (an envelope's id field is a length)
	}
	if !impulse {
		// An answer we cannot read: fail the call that waits for it rather
		// than let it wait for its deadline.
		if pc := c.pending.Take(id); pc != nil {
			code := CodeInternal
			if errors.Is(err, protocol.ErrTooLarge) {
				code = CodeResourceExhausted
			}
			pc.C <- response{Err: Errorf(code, "unreadable answer from the peer: %v", err)}
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
			c.pending.Resolve(pkt, payload, h)
		}
	case protocol.TypeCall, protocol.TypeTask, protocol.TypeGet, protocol.TypeSet:
		switch {
		case !pkt.Impulse:
			// Nobody waits for the answer to an event: a Go or Node peer
			// answers with a TASK, a browser with a CALL (NETRON-WIRE.md §5.8).
			if !c.pending.Resolve(pkt, payload, h) && (pkt.Type == protocol.TypeTask || pkt.Type == protocol.TypeCall) {
				c.eventAnswered()
			}
		case pkt.Type == protocol.TypeCall && pkt.Error:
			if c.ext.Load() {
				if cc, ok := c.served.Get(pkt.ID); ok {
					cc.cancel() // a Go peer cancels the call it sent
				}
			}
		case pkt.Type == protocol.TypeTask && c.orderedEvent(pkt, payload):
			// An event: delivered in arrival order (NETRON-WIRE.md §6.4).
		default:
			if !c.served.Take(c.ctx.Done()) { // the connection ended
				session.PutFrame(h)
				return
			}
			if !n.beginCall() {
				c.served.Free()
				c.replyRefused(pkt.ID, pkt.Type, errDraining)
				session.PutFrame(h)
				return
			}
			if pkt.Type == protocol.TypeCall {
				call := newServedCall(n.poolCalls)
				// The frame is the request's own copy: its arguments may
				// keep parts of it (see Call.unmarshalArg and arg).
				call.srv.pkt, call.srv.payload, call.srv.frame, call.srv.lent = pkt, payload, h, true
				n.serve(c, call)
				return
			}
			go func() {
				defer n.inflight.Done()
				c.handleRequest(pkt, payload, nil)
				session.PutFrame(h) // nothing of a served request outlives it
				c.served.Free()
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
