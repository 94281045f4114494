package netron

import (
	"context"
	"maps"
	"math"
	"sync"
	"time"

	"github.com/titanframework/titan/internal/afterfuncs"
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

// msDuration converts a peer's milliseconds to a duration, saturating
// instead of wrapping (a wrapped timeout would be negative: expired).
func msDuration(ms int64) time.Duration {
	const maxMs = math.MaxInt64 / int64(time.Millisecond)
	switch {
	case ms > maxMs:
		return math.MaxInt64
	case ms < -maxMs:
		return math.MinInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// callCtx is the context of one call served over a connection: cancelled
// by the caller's cancel packet, by the end of the call or of the
// connection (see conn.close), and carrying the calling peer. It lives
// inside the Call, so serving a call costs none of the allocations of
// context.WithCancel and WithValue; its done channel is made only when
// someone asks for it. It carries no other values.
type callCtx struct {
	peer *Peer
	call *Call             // the call served (for Stop's report), while tracked
	md   map[string]string // the caller's metadata (IncomingMetadata)

	mu    sync.Mutex
	done  chan struct{}
	err   error
	after afterfuncs.List
}

func (c *callCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *callCtx) Value(key any) any {
	switch key {
	case peerKey{}:
		return c.peer
	case incomingKey{}:
		return c.md
	}
	return nil
}

type (
	incomingKey struct{}
	outgoingKey struct{}
)

// IncomingMetadata returns the metadata of the call being served (the
// caller's, from a Go peer's call header or the gateway's request), or nil:
// how a method reads what its caller sent alongside the arguments. The map
// must not be modified.
func IncomingMetadata(ctx context.Context) map[string]string {
	md, _ := ctx.Value(incomingKey{}).(map[string]string)
	return md
}

// WithOutgoingMetadata returns a context whose calls carry md as their
// metadata (Go peers: the call header; the interceptors see it as
// Call.Metadata, a copy they may change). Given twice, the inner md
// replaces the outer.
func WithOutgoingMetadata(ctx context.Context, md map[string]string) context.Context {
	return context.WithValue(ctx, outgoingKey{}, md)
}

// OutgoingMetadata returns the metadata ctx carries for the calls made
// with it ([WithOutgoingMetadata]), or nil. Call doors that are not
// Netron connections (the HTTP client) send it their own way. The map
// must not be modified.
func OutgoingMetadata(ctx context.Context) map[string]string {
	md, _ := ctx.Value(outgoingKey{}).(map[string]string)
	return md
}

// outgoingMetadata returns a copy of the metadata ctx carries for calls,
// or nil.
func outgoingMetadata(ctx context.Context) map[string]string {
	md, _ := ctx.Value(outgoingKey{}).(map[string]string)
	if len(md) == 0 {
		return nil
	}
	return maps.Clone(md)
}

// AfterFunc lets context.WithCancel, WithTimeout and AfterFunc on top of
// a call's context follow its cancellation without a goroutine each.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	return c.after.Add(&c.mu, f)
}

// cancel ends the context once; later calls do nothing.
func (c *callCtx) cancel() {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = context.Canceled
	if c.done != nil {
		close(c.done)
	}
	after := c.after.Take()
	c.mu.Unlock()
	after.Run()
}

func (c *callCtx) String() string { return "netron.callContext" }
