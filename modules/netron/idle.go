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

// checkIdle runs on the idle timer: it probes a connection that read
// nothing since the last check, and re-arms the timer.
func (c *conn) checkIdle() {
	if c.ctx.Err() != nil {
		return
	}
	cfg := c.p.n.cfg
	// A reader waiting for a request slot (see session.Served.Take) reads
	// nothing and could not read the answer: the connection is busy, not
	// idle.
	if r := c.rd.Reads(); r != c.idleMark || c.served.Full() {
		c.idleMark = r
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
	if err != nil {
		c.p.log.Info("closing connection: silent and did not answer a ping", "silent", cfg.IdleTimeout, "ping_timeout", cfg.PingTimeout, "error", err)
		c.close(NewError(CodeUnavailable, fmt.Errorf("the peer was silent for %v and did not answer a ping within %v", cfg.IdleTimeout, cfg.PingTimeout)))
		return
	}
	c.probes.Add(1)
	c.idleMark = c.rd.Reads()
	c.idleTimer.Load().Reset(cfg.IdleTimeout)
}
