package netron

import (
	"context"
	"time"
)

type peerKey struct{}

// withPeer records the peer a call came from.
func withPeer(ctx context.Context, p *Peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

// PeerFromContext returns the peer whose call is being served, or nil
// outside a served call.
func PeerFromContext(ctx context.Context) *Peer {
	p, _ := ctx.Value(peerKey{}).(*Peer)
	return p
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
