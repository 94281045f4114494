package netron

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strings"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Access is who may see and call what: the engine asks it when a request
// brings its own credentials (an HTTP request, a NATS call) and whenever it
// lists services to a caller (list_services, query_interface, the HTTP
// gateway's /discover, definitions, OpenAPI document and routes). The
// security module implements it ([WithAccess]); without one every caller
// sees everything and brings no identity.
type Access interface {
	// Identify returns ctx carrying the caller of a request that brings its
	// own credentials. A request without credentials is anonymous: ctx is
	// returned as it is. Refused credentials are an error (the request is
	// answered unauthenticated).
	Identify(ctx context.Context, c Credentials) (context.Context, error)
	// Visible reports whether the caller in ctx (identified, or a peer's
	// connection in it, see [PeerFromContext]) may call the method. What
	// it may not call is left out of what it is shown.
	Visible(ctx context.Context, m *MethodSpec) bool
}

// EventAccess is an [Access] that also says who may subscribe to the
// app's events: the engine asks it before a peer's subscribe task
// subscribes (ctx carries the peer: [PeerFromContext]); an error refuses
// the subscription with it. Without it, any peer may subscribe to any
// event name.
type EventAccess interface {
	MaySubscribe(ctx context.Context, topic string) error
}

// EventReceiver is an [EventAccess] that is also asked before each event
// is sent to a peer subscribed to its name: an event it refuses is not
// sent to that peer, and the subscription stays (the peer gets the
// events again once it may, authenticated again, say). The security
// module implements it, so that a subscription does not outlive the
// rights it was made with. It is called on the goroutine that emits, once
// per event and subscribed peer: it must be quick and not block.
type EventReceiver interface {
	MayReceive(p *Peer, topic string) bool
}

// EventFilter is an [EventAccess] that is also asked before each event is
// handed to a subscription made for a caller that is not a connection (the
// development UI's event monitor, ctx carrying the caller): it decides as
// MaySubscribe does, without logging, for the refusal repeats with every
// event and the caller asked for none of them by name (a pattern covers
// names the app's rules decide one by one). The security module
// implements it. It must be quick and not block.
type EventFilter interface {
	MayReceiveEvent(ctx context.Context, topic string) bool
}

// PeerWatcher is an [Access] that is told of every connection a listener
// accepts, before it is served (the security module closes connections
// that do not authenticate in time).
type PeerWatcher interface {
	PeerAccepted(p *Peer)
}

// Credentials are what a request brought to prove who sent it.
type Credentials struct {
	// Transport is the name of the transport it came through ("http",
	// "https", "nats").
	Transport string
	// RemoteAddr is the address of the sender, when the transport knows
	// it ("" otherwise).
	RemoteAddr string
	// Token is the bearer token ("Authorization: Bearer <token>"), or "".
	Token string
	// TLS is the state of the request's TLS connection, or nil.
	TLS *tls.ConnectionState
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// value (the scheme in any case), or "".
func BearerToken(authorization string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(authorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// RequestCredentials returns the credentials of an HTTP request: its
// bearer token, remote address and TLS state.
func RequestCredentials(transport string, r *http.Request) Credentials {
	return Credentials{
		Transport: transport, RemoteAddr: r.RemoteAddr,
		Token: BearerToken(r.Header.Get("Authorization")), TLS: r.TLS,
	}
}

type remoteAddrKey struct{}

// WithRemoteAddr returns ctx noting the address of the sender of the
// request it serves, where the request has no [Peer] to tell it (the HTTP
// gateway's requests): the security module limits failed authentications
// and rate-limits anonymous callers by it.
func WithRemoteAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, addr)
}

// RemoteAddrFromContext returns the address [WithRemoteAddr] noted, else
// the address of the peer of the call being served, else "".
func RemoteAddrFromContext(ctx context.Context) string {
	if a, ok := ctx.Value(remoteAddrKey{}).(string); ok {
		return a
	}
	if p := PeerFromContext(ctx); p != nil {
		return p.RemoteAddr()
	}
	return ""
}

// WithAccess sets who may see and call what ([Access]); the security
// module gives it.
func WithAccess(a Access) Option {
	return netronOption{"Access(…)", func(n *Netron) { n.access = a }}
}

// Access returns what [WithAccess] set, or nil.
func (n *Netron) Access() Access { return n.access }

// visible reports whether the caller in ctx may call m.
func (n *Netron) visible(ctx context.Context, m *method) bool {
	return n.access == nil || n.access.Visible(ctx, &m.spec)
}

// anyVisible reports whether the caller in ctx may call a method of s.
func (n *Netron) anyVisible(ctx context.Context, s *service) bool {
	if n.access == nil {
		return true
	}
	for _, name := range s.order {
		if n.access.Visible(ctx, &s.methods[name].spec) {
			return true
		}
	}
	return false
}

// VisibleMethods returns the wire names of the methods of the service
// with the given qualified name that the caller in ctx may call, in
// order; nil for an unknown service.
func (n *Netron) VisibleMethods(ctx context.Context, qualified string) []string {
	n.mu.RLock()
	s := n.services[qualified]
	n.mu.RUnlock()
	if s == nil {
		return nil
	}
	return n.visibleMethods(ctx, s)
}

// visibleMethods returns the names of the methods of s the caller in ctx
// may call, in the service's order.
func (n *Netron) visibleMethods(ctx context.Context, s *service) []string {
	out := make([]string, 0, len(s.order))
	for _, name := range s.order {
		if n.visible(ctx, s.methods[name]) {
			out = append(out, name)
		}
	}
	return out
}

// definitionFor returns the service's definition as the caller in ctx may
// see it: its methods filtered by [Access.Visible], with the same id
// (NETRON-WIRE.md §6.1 step 5); nil when the caller may call none of them.
func (n *Netron) definitionFor(ctx context.Context, s *service) *protocol.Definition {
	def := s.definition(n.id)
	if n.access == nil {
		return def
	}
	meta, _ := s.meta.(protocol.Object)
	out := make(protocol.Object, 0, len(meta))
	shown := 0
	for _, f := range meta {
		if f.Key != "methods" {
			out = append(out, f)
			continue
		}
		all, _ := f.Value.(protocol.Object)
		methods := protocol.Object{}
		for _, mf := range all {
			if m := s.methods[mf.Key]; m != nil && n.visible(ctx, m) {
				methods = append(methods, mf)
			}
		}
		shown = len(methods)
		out = append(out, protocol.Field{Key: "methods", Value: methods})
	}
	if shown == 0 {
		return nil
	}
	def.Meta = out
	return def
}

// SetIdentity keeps who the peer proved to be (the security module's
// identity, from the authenticate task or the connection's token) for the
// calls it makes from now on; nil forgets it. Re-authentication replaces
// it.
func (p *Peer) SetIdentity(v any) {
	if v == nil {
		p.identity.Store(nil)
		return
	}
	p.identity.Store(&v)
}

// Identity returns what [Peer.SetIdentity] kept, or nil.
func (p *Peer) Identity() any {
	if v := p.identity.Load(); v != nil {
		return *v
	}
	return nil
}

// TLS returns the state of the peer's TLS connection (tls://, wss://), or
// nil when the connection is not TLS or the transport does not tell.
func (p *Peer) TLS() *tls.ConnectionState {
	c := p.cur.Load()
	if c == nil {
		return nil
	}
	switch t := c.t.(type) {
	case interface{ TLS() *tls.ConnectionState }:
		return t.TLS()
	case interface{ NetConn() net.Conn }:
		if tc, ok := t.NetConn().(*tls.Conn); ok {
			st := tc.ConnectionState()
			return &st
		}
	}
	return nil
}
