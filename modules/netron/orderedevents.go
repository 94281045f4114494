package netron

import (
	"context"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// queuedEvent is an emit task waiting for its handlers.
type queuedEvent struct {
	ctx     context.Context // that of the connection it came on
	topic   string
	payload protocol.RawValue
	size    int // what it holds: its frame
}

// orderedEvent takes an emit TASK out of the concurrent request path: it is
// acknowledged at once and its handlers run one event at a time, in the
// order the events arrived, over the peer's connections (a reconnected
// peer's events wait for those of the lost connection). It reports false
// for any other task.
func (c *conn) orderedEvent(pkt protocol.Packet, payload protocol.RawValue) bool {
	var elems []protocol.RawValue
	if protocol.UnmarshalLimits(payload, &elems, c.p.n.limits) != nil || len(elems) < 2 {
		return false
	}
	var name, topic string
	if protocol.UnmarshalLimits(elems[0], &name, c.p.n.limits) != nil || name != TaskEmit ||
		protocol.UnmarshalLimits(elems[1], &topic, c.p.n.limits) != nil {
		return false
	}
	ev := queuedEvent{ctx: c.ctx, topic: topic, payload: protocol.RawValue{0xc0}, size: len(payload)}
	if len(elems) > 2 {
		ev.payload = elems[2]
	}
	// The event holds its frame until its handlers have run.
	cfg := &c.p.n.cfg
	p := c.p
	p.emu.Lock()
	if p.evCount >= cfg.MaxQueuedEventsPerPeer || p.evBytes+ev.size > cfg.MaxQueuedEventBytesPerPeer && p.evCount > 0 {
		queued, bytes := p.evCount, p.evBytes
		p.emu.Unlock()
		c.logBad("refused an event: the peer's events wait for their handlers", "topic", clip(topic),
			"queued", queued, "queued_bytes", bytes, "limit", "netron.maxQueuedEventsPerPeer / maxQueuedEventBytesPerPeer")
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeResourceExhausted,
			"event %q refused: %d events (%d bytes) from this peer wait for their handlers (limits %d events, %d bytes)",
			clip(topic), queued, bytes, cfg.MaxQueuedEventsPerPeer, cfg.MaxQueuedEventBytesPerPeer))
		return true
	}
	p.events = append(p.events, ev)
	p.evCount++
	p.evBytes += ev.size
	start := !p.evBusy
	p.evBusy = true
	p.emu.Unlock()
	c.reply(pkt.ID, pkt.Type, protocol.Undefined{})
	if start {
		go p.runEvents()
	}
	return true
}

// runEvents delivers the peer's queued events, oldest first, until none
// is left.
func (p *Peer) runEvents() {
	for {
		p.emu.Lock()
		if len(p.events) == 0 {
			p.evBusy = false
			p.emu.Unlock()
			return
		}
		ev := p.events[0]
		p.events[0] = queuedEvent{}
		p.events = p.events[1:]
		p.emu.Unlock()
		p.deliver(withPeer(ev.ctx, p), ev.topic, ev.payload)
		p.emu.Lock()
		p.evCount--
		p.evBytes -= ev.size
		p.emu.Unlock()
	}
}
