package netron

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// CallConn is a connection that carries calls rather than packets: the
// client side of a gateway, such as HTTP's POST /netron/invoke and its
// NDJSON stream routes. [Dial] at an address whose scheme's registered
// entry is a [CallDialer] returns a [Peer] that calls through one, so that
// one client API serves every scheme. What such a door cannot carry —
// events, tasks, pings and calls from the server — answers unimplemented.
type CallConn interface {
	// Invoke calls method of target (a name@version, range or bare name)
	// with args and returns the result's MessagePack encoding, nil for a
	// void method. A failure is a *Error with the server's code.
	Invoke(ctx context.Context, target, method string, args []any) (protocol.RawValue, error)
	// Stream calls a stream method and returns its items as they arrive;
	// ctx bounds the whole stream.
	Stream(ctx context.Context, target, method string, args []any) (ItemReader, error)
	// Definition returns the definition of target's service, as
	// query_interface would.
	Definition(ctx context.Context, target string) (*protocol.Definition, error)
	// Services lists the services the door exposes, as the list_services
	// task would.
	Services(ctx context.Context) ([]ServiceInfo, error)
	// RemoteAddr returns the address the connection reaches.
	RemoteAddr() string
	// Close releases the connection's resources.
	Close() error
}

// ItemReader reads the items of a stream a [CallConn] opened.
type ItemReader interface {
	// Next returns the next item's MessagePack encoding, valid until the
	// following call; io.EOF after the last item, or the error that ended
	// the stream.
	Next() (protocol.RawValue, error)
	// Close stops reading; the server's producer is stopped.
	Close() error
}

// CallDialer is implemented by a registered scheme's entry (a gateway's)
// that can be dialled as a [CallConn].
type CallDialer interface {
	DialCalls(ctx context.Context, addr string, o CallDialOptions) (CallConn, error)
}

// CallDialOptions are what a [Netron] gives a [CallDialer].
type CallDialOptions struct {
	// TLS is the client configuration for secure schemes (WithTLS), nil
	// for the system's roots.
	TLS *tls.Config
	// Limits bound the decoding of what comes back.
	Limits protocol.Limits
	// Metadata is sent with every call, as the door sends metadata (HTTP
	// headers), under the call's own ([WithBearerToken]: authorization).
	// A CallConn under a Dial peer gets none here: its calls carry it.
	Metadata map[string]string

	values map[any]any // WithDialValue
}

// Value returns the value a [WithDialValue] option recorded under key, or
// nil.
func (o CallDialOptions) Value(key any) any { return o.values[key] }

// newCallPeer returns a dialled Peer that calls through cc.
func newCallPeer(n *Netron, cc CallConn, addr string) *Peer {
	return &Peer{
		n: n, dialled: true, addr: addr, calls: cc,
		log:      n.log.With("peer", cc.RemoteAddr()),
		closeCh:  make(chan struct{}),
		done:     make(chan struct{}),
		resolved: map[string]string{},
	}
}

// errNotOverCalls is what a Peer over a CallConn answers for what only a
// packet connection carries.
func (p *Peer) errNotOverCalls(what string) error {
	return Errorf(CodeUnimplemented, "%s: %s needs a connection that carries packets (tcp://, unix://, ws://); this peer carries calls and streams only", shownAddr(p.addr), what)
}

// invokeCalls is sendCall over a CallConn.
func (p *Peer) invokeCalls(ctx context.Context, call *Call) (*Reply, error) {
	if p.isClosed() {
		return nil, errPeerClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.n.cfg.RequestTimeout)
		defer cancel()
	}
	raw, err := p.calls.Invoke(callsContext(ctx, call), call.Service, call.Method, call.args)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		raw = protocol.RawValue{0xc0} // a void method: nil, as over packets
	}
	if call.cli == nil { // a Call an interceptor made
		call.cli = new(clientRoom)
	}
	call.cli.reply = Reply{raw: raw, limits: p.n.limits}
	return &call.cli.reply, nil
}

// callsContext returns the context a CallConn is given for call: ctx
// with the call's metadata as its outgoing metadata, which the door sends
// its own way (HTTP headers), as a connection sends it in the call
// header. The Call's metadata starts as a copy of ctx's; an interceptor
// may have replaced it (the tracing interceptor adds traceparent).
func callsContext(ctx context.Context, call *Call) context.Context {
	if len(call.Metadata) == 0 && OutgoingMetadata(ctx) == nil {
		return ctx
	}
	return WithOutgoingMetadata(ctx, call.Metadata)
}

// openCallsStream is openStream over a CallConn.
func (p *Peer) openCallsStream(ctx context.Context, call *Call) (*Stream, error) {
	if p.isClosed() {
		return nil, errPeerClosed
	}
	sctx, cancel := context.WithCancel(ctx)
	src, err := p.calls.Stream(callsContext(sctx, call), call.Service, call.Method, call.args)
	if err != nil {
		cancel()
		return nil, err
	}
	p.inflight.Add(1) // until the stream ends (Stream.end)
	s := &Stream{peer: p, src: src, ctx: sctx, cancel: cancel, limits: p.n.limits}
	s.closeOnCancel(sctx)
	return s, nil
}

// nextFromCalls is Stream.Next over a CallConn.
func (s *Stream) nextFromCalls() (protocol.RawValue, error) {
	if s.closed.Load() {
		return nil, errStreamClosedByReader
	}
	if ended, err := s.endedWith(); ended {
		return nil, err
	}
	v, err := s.src.Next()
	if err != nil {
		s.closeSrc() // the stream's end, whether or not its reader closes it
		if errors.Is(err, io.EOF) {
			s.end(nil)
		} else {
			if s.ctx.Err() != nil && CodeOf(err) == CodeUnknown {
				err = NewError(CodeOf(s.ctx.Err()), fmt.Errorf("stream: %w", s.ctx.Err()))
			}
			s.end(err)
		}
		return nil, err
	}
	return v, nil
}

// closeSrc closes the ItemReader of a stream over a CallConn, once: at
// the stream's end or when the reader closes it, whichever comes first.
func (s *Stream) closeSrc() {
	s.srcOnce.Do(func() { _ = s.src.Close() })
}

// isClosed reports whether Close was called.
func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// closeCalls is Close for a Peer over a CallConn.
func (p *Peer) closeCalls() error {
	if !p.markClosed() {
		return nil
	}
	err := p.calls.Close()
	close(p.done)
	if p.own {
		return errors.Join(err, p.n.Stop(context.Background()))
	}
	return err
}
