package netron

import (
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// PeerWrites returns the number of socket writes issued on the peer's
// current connection (transports implementing transport.WriteCounter), or
// 0 when it has none. Test-only.
func PeerWrites(p *Peer) uint64 {
	c := p.cur.Load()
	if c == nil {
		return 0
	}
	if wc, ok := c.t.(transport.WriteCounter); ok {
		return wc.Writes()
	}
	return 0
}

// OpenRecvStreams returns how many received streams the peer's current
// connection holds.
func OpenRecvStreams(p *Peer) int {
	c := p.cur.Load()
	if c == nil {
		return 0
	}
	return c.inbound.Len()
}

// ResolvedTarget returns the definition id the peer holds for target.
func ResolvedTarget(p *Peer, target string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resolved[target]
}

// FastPath reports whether a registered method is called without
// reflection (see fastInvoker).
func FastPath(n *Netron, service, method string) bool {
	m := lookupMethod(n, service, method)
	return m != nil && m.fast != nil
}

// lookupMethod finds a registered method; nil when there is none.
func lookupMethod(n *Netron, service, method string) *method {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if s := n.services[service]; s != nil {
		return s.methods[method]
	}
	return nil
}

// FastStream reports whether a stream method is called without reflection
// (a MethodFunc).
func FastStream(n *Netron, service, method string) bool {
	m := lookupMethod(n, service, method)
	return m != nil && m.fastStream != nil
}

// RunningCalls lists the calls n serves now.
func RunningCalls(n *Netron) []string { return n.runningCalls() }

// PoolsCalls reports whether n reuses the state of unary calls (every
// interceptor borrows its Calls). Test-only.
func PoolsCalls(n *Netron) bool { return n.poolCalls }

// Workers returns how many call workers n has running.
func Workers(n *Netron) int { return int(n.workers.alive.Load()) }

// WithWorkerIdle sets how long the Netron's call workers wait idle
// before its janitor retires them (about twice d).
func WithWorkerIdle(d time.Duration) Option {
	return netronOption{fmt.Sprintf("WithWorkerIdle(%v)", d), func(n *Netron) { n.workers.tick = d }}
}

// IdleProbes returns how many idle probes the peer's current connection
// answered.
func IdleProbes(p *Peer) uint64 {
	c := p.cur.Load()
	if c == nil {
		return 0
	}
	return c.probes.Load()
}

// WithCloseTimeout sets the transport.Options.CloseTimeout of the
// Netron's listeners: how long closing a connection waits for the peer's
// part of a closing handshake (a WebSocket close frame). Test-only.
func WithCloseTimeout(d time.Duration) Option {
	return netronOption{fmt.Sprintf("WithCloseTimeout(%v)", d), func(n *Netron) { n.closeTimeout = d }}
}
