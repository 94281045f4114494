package netron

import (
	"context"
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// watchIdle starts the idle probe of a connection, accepted or dialled:
// after Config.IdleTimeout without a message from the peer, this side
// pings it (a WebSocket ping where the transport has one, else a Netron
// PING) and closes the connection when no answer comes within
// Config.PingTimeout. A peer that is alive answers and keeps its
// connection however long it stays silent.
func (c *conn) watchIdle() {
	idle := c.p.n.cfg.IdleTimeout
	if idle <= 0 {
		return
	}
	// Stored before it is armed: checkIdle re-arms it through the field.
	t := time.AfterFunc(time.Hour, c.checkIdle)
	t.Stop()
	c.idleTimer.Store(t)
	if c.ctx.Err() == nil { // else closed meanwhile: close did not see the timer
		t.Reset(idle)
	}
}

// bytesRead returns the bytes the transport read so far, those of a
// message still arriving included ([transport.ReadCounter]); 0 when it
// does not count them.
func (c *conn) bytesRead() uint64 {
	if rc, ok := c.t.(transport.ReadCounter); ok {
		return rc.BytesRead()
	}
	return 0
}

// checkIdle runs on the idle timer: it probes a connection that read
// nothing since the last check, and re-arms the timer.
func (c *conn) checkIdle() {
	if c.ctx.Err() != nil {
		return
	}
	cfg := c.p.n.cfg
	// A reader waiting for a request slot (see session.Served.Take) reads
	// nothing and could not read the answer: the connection is busy, not
	// idle. Nor is a peer whose bytes arrive, though no whole message has
	// (it is sending a large one slowly, within the frame limits).
	got := c.bytesRead()
	if r := c.rd.Reads(); r != c.idleMark || got != c.idleBytes || c.served.Full() {
		c.idleMark, c.idleBytes = r, got
		c.idleTimer.Load().Reset(cfg.IdleTimeout)
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, cfg.PingTimeout)
	defer cancel()
	var err error
	if pg, ok := c.t.(transport.Pinger); ok {
		err = pg.Ping(ctx)
	} else {
		_, err = c.request(ctx, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypePing, Impulse: true, Data: time.Now().UnixMilli()})
	}
	if c.ctx.Err() != nil {
		return
	}
	if err != nil && ctx.Err() != nil && c.bytesRead() != got {
		// The peer began sending meanwhile: its answer comes after the
		// message it is in the middle of, which may take longer than
		// PingTimeout at the frame limits' rate.
		c.idleMark, c.idleBytes = c.rd.Reads(), c.bytesRead()
		c.idleTimer.Load().Reset(cfg.IdleTimeout)
		return
	}
	if err != nil {
		c.p.log.Info("closing connection: silent and did not answer a ping", "silent", cfg.IdleTimeout, "ping_timeout", cfg.PingTimeout, "error", err)
		c.close(NewError(CodeUnavailable, fmt.Errorf("the peer was silent for %v and did not answer a ping within %v", cfg.IdleTimeout, cfg.PingTimeout)))
		return
	}
	c.probes.Add(1)
	c.idleMark, c.idleBytes = c.rd.Reads(), c.bytesRead()
	c.idleTimer.Load().Reset(cfg.IdleTimeout)
}
