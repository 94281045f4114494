package netron

import "strings"

// This file holds read-only accessors for what observes the engine from
// above (modules/metrics, modules/health): they change nothing and cost
// no allocation, so an interceptor may call them on every call.

// Transport returns the name of the transport the call travels over: the
// URL scheme of its peer's connection ("tcp", "ws", "unix", ...; for a
// dialled peer, the scheme of the dialled address), or for a call handed
// in by a gateway the gateway's transport ([Invocation.Transport]: "http",
// "https", "nats"). It is "" for a call that has neither (a Call made
// outside a connection or a gateway).
func (c *Call) Transport() string {
	if c.transport != "" {
		return c.transport
	}
	if c.Peer != nil {
		return c.Peer.Transport()
	}
	return ""
}

// Transport returns the scheme the peer is connected over: its listener's
// for an accepted peer ("tcp", "ws", ...), the dialled address's for a
// dialled one; "" when neither is known.
func (p *Peer) Transport() string {
	if p.scheme != "" {
		return p.scheme
	}
	scheme, _, ok := strings.Cut(p.addr, ":")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme) // no allocation when already lower case
}

// Dialled reports whether this side dialled the peer (Dial, SpawnIPC) rather
// than accepted it on a listener.
func (p *Peer) Dialled() bool { return p.dialled }

// Draining reports whether [Netron.Stop] has begun: listeners are closed
// or closing, and new calls are refused with unavailable.
func (n *Netron) Draining() bool { return n.draining.Load() }
