package netron

import (
	"slices"
	"strings"
	"sync"
)

// Traffic is what crossed the connections of one transport of a Netron,
// accepted and dialled, since it was made: messages and their bytes each
// way, as they crossed the transport (compressed messages at their
// compressed size), without the transport's own framing (the 4-byte
// length prefix of tcp and unix, WebSocket frame headers). The HTTP and
// NATS gateways are not counted here.
type Traffic struct {
	Transport               string
	MessagesIn, MessagesOut uint64
	BytesIn, BytesOut       uint64
	// EventsDropped counts the events not sent to a subscribed peer
	// because its send queue was full (it read slower than they were
	// emitted; see [Events]): not in MessagesOut.
	EventsDropped uint64
}

func (t *Traffic) add(c *conn) {
	msgs, bytes := c.rd.Received()
	t.MessagesIn += msgs
	t.BytesIn += bytes
	msgs, bytes = c.q.Sent()
	t.MessagesOut += msgs
	t.BytesOut += bytes
	t.EventsDropped += c.evDropped.Load()
}

// traffic holds the counts of the connections that ended, by transport;
// the live ones count their own (session.Reader, session.Queue) and are
// folded in here when they end.
type traffic struct {
	mu     sync.Mutex
	closed map[string]*Traffic
}

// fold adds the counts of c, which has ended, to the totals of its
// transport, once.
func (n *Netron) fold(c *conn) {
	n.ended.mu.Lock()
	defer n.ended.mu.Unlock()
	if c.folded {
		return
	}
	c.folded = true
	t := transportOf(c)
	if n.ended.closed == nil {
		n.ended.closed = map[string]*Traffic{}
	}
	tt := n.ended.closed[t]
	if tt == nil {
		tt = &Traffic{Transport: t}
		n.ended.closed[t] = tt
	}
	tt.add(c)
}

func transportOf(c *conn) string {
	if t := c.p.Transport(); t != "" {
		return t
	}
	return "unknown"
}

// Traffic returns the traffic of each transport the Netron has had
// connections on, sorted by transport; the counts only grow, so they are
// what a Prometheus counter wants (modules/metrics serves them).
func (n *Netron) Traffic() []Traffic {
	peers := n.Peers()
	n.ended.mu.Lock()
	defer n.ended.mu.Unlock()
	by := map[string]*Traffic{}
	for t, tt := range n.ended.closed {
		c := *tt
		by[t] = &c
	}
	for _, p := range peers {
		c := p.cur.Load()
		if c == nil || c.folded {
			continue
		}
		t := transportOf(c)
		tt := by[t]
		if tt == nil {
			tt = &Traffic{Transport: t}
			by[t] = tt
		}
		tt.add(c)
	}
	out := make([]Traffic, 0, len(by))
	for _, tt := range by {
		out = append(out, *tt)
	}
	slices.SortFunc(out, func(a, b Traffic) int { return strings.Compare(a.Transport, b.Transport) })
	return out
}
