package netron

import "github.com/titanframework/titan/modules/netron/transport"

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
