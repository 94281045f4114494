package netron

import "github.com/titanframework/titan/modules/netron/protocol"

// queuedEvent is an emit task waiting for its handlers.
type queuedEvent struct {
	topic   string
	payload protocol.RawValue
	size    int // what it holds: its frame
}

// orderedEvent takes an emit TASK out of the concurrent request path: it is
// acknowledged at once and its handlers run one event at a time, in the
// order the events arrived. It reports false for any other task.
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
	ev := queuedEvent{topic: topic, payload: protocol.RawValue{0xc0}, size: len(payload)}
	if len(elems) > 2 {
		ev.payload = elems[2]
	}
	// The event holds its frame until its handlers have run.
	cfg := &c.p.n.cfg
	c.emu.Lock()
	if c.evCount >= cfg.MaxQueuedEventsPerPeer || c.evBytes+ev.size > cfg.MaxQueuedEventBytesPerPeer && c.evCount > 0 {
		queued, bytes := c.evCount, c.evBytes
		c.emu.Unlock()
		c.logBad("refused an event: the peer's events wait for their handlers", "topic", clip(topic),
			"queued", queued, "queued_bytes", bytes, "limit", "netron.maxQueuedEventsPerPeer / maxQueuedEventBytesPerPeer")
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeResourceExhausted,
			"event %q refused: %d events (%d bytes) from this peer wait for their handlers (limits %d events, %d bytes)",
			clip(topic), queued, bytes, cfg.MaxQueuedEventsPerPeer, cfg.MaxQueuedEventBytesPerPeer))
		return true
	}
	c.events = append(c.events, ev)
	c.evCount++
	c.evBytes += ev.size
	start := !c.evBusy
	c.evBusy = true
	c.emu.Unlock()
	c.reply(pkt.ID, pkt.Type, protocol.Undefined{})
	if start {
		go c.runEvents()
	}
	return true
}

func (c *conn) runEvents() {
	for {
		c.emu.Lock()
		if len(c.events) == 0 {
			c.evBusy = false
			c.emu.Unlock()
			return
		}
		ev := c.events[0]
		c.events[0] = queuedEvent{}
		c.events = c.events[1:]
		c.emu.Unlock()
		c.p.deliver(withPeer(c.ctx, c.p), ev.topic, ev.payload)
		c.emu.Lock()
		c.evCount--
		c.evBytes -= ev.size
		c.emu.Unlock()
	}
}
