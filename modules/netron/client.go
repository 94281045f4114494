package netron

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Dial connects to the Netron process at addr (tcp://host:port,
// unix:///path, mem://name, ...) and returns the peer once the handshake is
// done. At an address whose scheme carries calls rather than packets
// (http:// and https://, with the HTTP gateway's package linked) the peer
// calls through that door ([CallConn]): calls, streams, Bind and
// Definition work as over any scheme; events, tasks and pings answer
// unimplemented. The client side gets a Netron of its own with cfg's zero
// values, configured by opts: its Netron options ([WithTLS],
// [WithAuthenticator], [WithIdentity], ...), interceptors of the calls it
// makes ([WithInterceptors], [WithClientInterceptors], titan's call
// policies), [WithBearerToken], [WithLogger], and at a call door the
// door's own options ([WithDialValue]: those of modules/netron/http). The
// options of a pool ([WithAddress], [WithBalancer]) are refused. Use
// [Netron.Dial] to dial from an app's Netron (sharing its services,
// events and interceptors).
func Dial(ctx context.Context, addr string, opts ...ClientOption) (*Peer, error) {
	c, err := newClientConfig(forDial, opts)
	if err != nil {
		return nil, fmt.Errorf("netron: Dial: %w", err)
	}
	nopts := c.netron
	if ics := c.interceptors(ClientInfo{Target: addr, Log: c.log}); len(ics) > 0 {
		nopts = append(slices.Clone(nopts), WithInterceptors(ics...))
	}
	n, err := New(Config{}, c.log, nopts...)
	if err != nil {
		return nil, err
	}
	p, err := n.dial(ctx, addr, c.values, c.valueDescs)
	if err != nil {
		_ = n.Stop(context.Background())
		return nil, err
	}
	p.own = true
	return p, nil
}

// Dial connects to addr and completes the handshake: it waits for the
// server's id message and answers with its own (NETRON-WIRE.md §4.2).
// When ctx has no deadline, the connection and the handshake must be done
// within the configuration's HandshakeTimeout, so that an address that
// accepts and never answers does not hold the caller for ever.
func (n *Netron) Dial(ctx context.Context, addr string) (*Peer, error) {
	return n.dial(ctx, addr, nil, nil)
}

// dial is Dial with the values of the client's WithDialValue options
// (descs), which a call door reads and other schemes refuse.
func (n *Netron) dial(ctx context.Context, addr string, values map[any]any, descs []string) (*Peer, error) {
	if n.draining.Load() {
		return nil, errDraining
	}
	tr, scheme, err := n.transportFor(addr)
	if err != nil {
		return nil, err
	}
	if d, ok := tr.(CallDialer); ok {
		cc, err := d.DialCalls(ctx, addr, CallDialOptions{TLS: n.tlsFor(scheme, false), Limits: n.limits, values: values})
		if err != nil {
			return nil, err
		}
		return newCallPeer(n, cc, addr), nil
	}
	if len(values) > 0 {
		return nil, fmt.Errorf("netron: Dial %s: %s: options of a call door (http://, https://), not of %s://", shownAddr(addr), strings.Join(descs, ", "), scheme)
	}
	if _, ok := ctx.Deadline(); !ok && n.cfg.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, n.cfg.HandshakeTimeout, fmt.Errorf("no answer within handshakeTimeout (%v): %w", n.cfg.HandshakeTimeout, context.DeadlineExceeded))
		defer cancel()
	}
	t, err := n.dialConn(ctx, tr, addr)
	if err != nil {
		return nil, err
	}
	p := newPeer(n, t, "", true)
	p.addr = addr
	if err := p.handshake(ctx, p.cur.Load()); err != nil {
		t.Close()
		return nil, err
	}
	if !n.addPeer(p, false) {
		t.Close()
		return nil, errDraining
	}
	p.start()
	return p, nil
}

func (n *Netron) dialConn(ctx context.Context, tr transport.Transport, addr string) (transport.Conn, error) {
	scheme, _, _ := strings.Cut(addr, ":")
	o := transport.Options{MaxFrameSize: n.cfg.MaxFrameSize, TLS: n.tlsFor(scheme, false), ServerTLS: n.clientTLS, Logger: n.log}
	u, err := openURL(addr, o)
	var t transport.Conn
	if err == nil {
		t, err = tr.Dial(ctx, u, o)
	}
	if err != nil {
		return nil, NewError(CodeUnavailable, fmt.Errorf("dial %s: %w", shownAddr(addr), err))
	}
	return t, nil
}

// handshake reads the server's id message and sends the client-id message,
// before any packet (NETRON-WIRE.md §4.3).
func (p *Peer) handshake(ctx context.Context, c *conn) error {
	type res struct {
		h   handshake
		err error
	}
	ch := make(chan res, 1)
	go func() {
		msg, err := c.t.ReadMessage()
		if err != nil {
			ch <- res{err: err}
			return
		}
		c.rd.Count(len(msg))
		h, err := parseHandshake(msg, p.n.cfg.MaxPeerIDBytes)
		if err == nil && h.Type != "id" {
			err = fmt.Errorf("first message is %q, want the server's id", h.Type)
		}
		ch <- res{h, err}
	}()
	var r res
	select {
	case r = <-ch:
	case <-ctx.Done():
		c.t.Close()
		<-ch
		return NewError(CodeUnavailable, fmt.Errorf("handshake with %s: %w", shownAddr(p.addr), context.Cause(ctx)))
	}
	if r.err != nil {
		return NewError(CodeUnavailable, fmt.Errorf("handshake with %s: %w", shownAddr(p.addr), r.err))
	}
	p.mu.Lock()
	p.remoteID = r.h.ID
	p.mu.Unlock()
	c.negotiated(r.h.Titan)
	hello := p.n.handshakeMessage("client-id")
	if err := c.t.WriteMessages(hello); err != nil {
		return NewError(CodeUnavailable, fmt.Errorf("handshake with %s: %w", shownAddr(p.addr), err))
	}
	c.q.Count(len(hello))
	return nil
}

// reconnect dials again with backoff and jitter until it succeeds or the
// peer is closed, then restores the event subscriptions and re-resolves
// the definitions the peer had resolved.
func (p *Peer) reconnect() {
	n := p.n
	delay := n.cfg.Reconnect.Min
	for attempt := 1; ; attempt++ {
		jitter := 1 + (rand.Float64()*0.4 - 0.2)
		select {
		case <-p.closeCh:
			p.n.removePeer(p)
			close(p.done)
			return
		case <-n.stopped:
			p.n.removePeer(p)
			p.markClosed()
			close(p.done)
			return
		case <-time.After(time.Duration(float64(delay) * jitter)):
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(n.cfg.RequestTimeout, time.Second))
		go func() { // Close and Stop end the attempt: they wait for it (done)
			select {
			case <-p.closeCh:
				cancel()
			case <-n.stopped:
				cancel()
			case <-ctx.Done():
			}
		}()
		tr, _, err := n.transportFor(p.addr)
		var t transport.Conn
		if err == nil {
			t, err = n.dialConn(ctx, tr, p.addr)
		}
		if err == nil {
			c := newConn(p, t)
			if err = p.handshake(ctx, c); err == nil {
				p.cur.Store(c)
				cancel()
				p.start()
				select {
				case <-p.closeCh:
					// Closed while this connection was being set up: Close
					// did not see it, so end it here (its end closes done).
					c.close(errPeerClosed)
					return
				default:
				}
				p.log.Info("reconnected", "addr", shownAddr(p.addr), "attempts", attempt)
				go p.restore()
				return
			}
			t.Close()
		}
		cancel()
		p.log.Debug("reconnect failed", "addr", shownAddr(p.addr), "attempt", attempt, "error", err)
		delay = min(delay*2, n.cfg.Reconnect.Max)
	}
}

// restore subscribes again to the events this side had subscribed to,
// and resolves again the targets it had resolved (definition ids change
// when a server restarts). The targets it could not resolve because the
// connection ended meanwhile stay listed for the next reconnect.
func (p *Peer) restore() {
	// One restore at a time: one whose connection ended gives back the
	// targets it did not resolve before the next takes the list.
	p.restoreMu.Lock()
	defer p.restoreMu.Unlock()
	p.mu.Lock()
	topics := make([]string, 0, len(p.handlers))
	for t := range p.handlers {
		topics = append(topics, t)
	}
	p.mu.Unlock()
	// Each subscription and each resolve has a RequestTimeout of its own:
	// on a slow link, the later ones must not fail for the time the
	// earlier ones took.
	for _, t := range topics {
		p.restoreSubscription(t)
	}
	p.mu.Lock()
	targets := p.toResolve
	p.toResolve = nil
	p.mu.Unlock()
	for i, target := range targets {
		c, err := p.conn()
		if err != nil {
			p.resolveLater(targets[i:])
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.n.cfg.RequestTimeout)
		_, err = p.resolve(ctx, c, target)
		cancel()
		if c.ctx.Err() != nil { // ended meanwhile: what it resolved was not kept
			p.resolveLater(targets[i:])
			return
		}
		if err != nil {
			p.log.Warn("could not resolve a service again after reconnecting", "target", target, "error", err)
		}
	}
}

// restoreSubscription subscribes again to topic if it still has
// handlers. It holds subMu for this topic only, as Subscribe does: a
// Subscribe or an unsubscribe meanwhile waits for one task, not for the
// whole restore.
func (p *Peer) restoreSubscription(topic string) {
	p.subMu.Lock()
	defer p.subMu.Unlock()
	p.mu.Lock()
	wanted := len(p.handlers[topic]) > 0
	p.mu.Unlock()
	if !wanted { // unsubscribed since the restore listed it
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.n.cfg.RequestTimeout)
	defer cancel()
	if _, err := p.task(ctx, TaskSubscribe, topic); err != nil {
		p.log.Warn("could not restore a subscription", "topic", topic, "error", err)
	}
}

// resolveLater lists targets to resolve again after the next reconnect.
func (p *Peer) resolveLater(targets []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, target := range targets {
		if !slices.Contains(p.toResolve, target) {
			p.toResolve = append(p.toResolve, target)
		}
	}
}

// conn returns the current connection or an unavailable error.
func (p *Peer) conn() (*conn, error) {
	if c := p.cur.Load(); c != nil && c.ctx.Err() == nil {
		return c, nil
	}
	if p.calls != nil {
		return nil, p.errNotOverCalls("this")
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errPeerClosed
	}
	return nil, NewError(CodeUnavailable, notRun(fmt.Sprintf("not connected to %s (reconnecting)", p.RemoteAddr())))
}

// withTimeout applies the request timeout to a context without a deadline.
func (p *Peer) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, p.n.cfg.RequestTimeout)
}

// task runs a TASK on the peer and returns its raw result.
func (p *Peer) task(ctx context.Context, name string, args ...any) (protocol.RawValue, error) {
	if p.calls != nil {
		return nil, p.errNotOverCalls("the task " + name)
	}
	c, err := p.conn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	r, err := c.request(ctx, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypeTask, Impulse: true,
		Data: append([]any{name}, args...)})
	if err != nil {
		return nil, err
	}
	if r.Packet.Error {
		return nil, p.remoteError(r.Payload)
	}
	return r.Payload, nil
}

// Task runs a task on the peer (query_interface, list_services or an app
// task) and decodes its result into out (a pointer, or nil to drop it).
func (p *Peer) Task(ctx context.Context, out any, name string, args ...any) error {
	raw, err := p.task(ctx, name, args...)
	if err != nil || out == nil {
		return err
	}
	if err := protocol.UnmarshalLimits(raw, out, p.n.limits); err != nil {
		return NewError(CodeInternal, fmt.Errorf("task %s result: %w", name, err))
	}
	return nil
}

func (p *Peer) remoteError(payload protocol.RawValue) *Error {
	v, err := protocol.DecodeValue(payload, p.n.limits)
	if err != nil {
		return NewError(CodeInternal, fmt.Errorf("undecodable error from the peer: %w", err))
	}
	return fromWire(v)
}

// Definition asks the peer for a service's definition (query_interface):
// an exact name, a semver range (Go servers) or a bare name.
func (p *Peer) Definition(ctx context.Context, target string) (*protocol.Definition, error) {
	if p.calls != nil {
		if p.isClosed() {
			return nil, errPeerClosed
		}
		ctx, cancel := p.withTimeout(ctx)
		defer cancel()
		return p.calls.Definition(ctx, target)
	}
	raw, err := p.task(ctx, TaskQueryInterface, target)
	if err != nil {
		return nil, err
	}
	v, err := protocol.DecodeValue(raw, p.n.limits)
	if err != nil {
		return nil, NewError(CodeInternal, fmt.Errorf("query_interface result: %w", err))
	}
	def, ok := v.(*protocol.Definition)
	if !ok {
		return nil, NewError(CodeInternal, fmt.Errorf("query_interface returned %T, want a definition", v))
	}
	return def, nil
}

// knownID returns what a CALL names target with when no query_interface
// is needed: an exact name as is, or the definition id resolved on the
// peer's connection.
func (p *Peer) knownID(target string) (string, bool) {
	if t, err := p.n.targets.parse(target); err == nil && t.Exact() {
		return target, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.resolved[target]
	return id, ok
}

// resolve returns what to put first in a CALL for target: an exact name as
// is (as TypeScript clients do), otherwise the definition id found by one
// query_interface per connection. A Go server resolves ranges itself; a
// TypeScript one gets the bare name and the version is checked here.
func (p *Peer) resolve(ctx context.Context, c *conn, target string) (string, error) {
	if id, ok := p.knownID(target); ok {
		return id, nil
	}
	t, err := p.n.targets.parse(target)
	if err != nil {
		return "", NewError(CodeInvalidArgument, err)
	}
	def, err := p.definitionFor(ctx, c, t)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if p.cur.Load() == c {
		p.resolved[target] = def.ID
	}
	p.mu.Unlock()
	return def.ID, nil
}

// isStaleDefinition reports an error that means a cached definition id is no
// longer valid (the server restarted): the wording TypeScript clients rely
// on (NETRON-WIRE.md §5.6).
func isStaleDefinition(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.code == CodeNotFound && strings.Contains(e.Message(), "Definition with id")
}

// Reply is the result of a unary call, still encoded.
type Reply struct {
	raw    protocol.RawValue
	limits protocol.Limits
	frame  *[]byte // pool holder of the frame raw aliases (see release)
	// lent: raw is in a frame only this reply holds (an answer read from
	// a connection), so the result may keep parts of it (decodeAs,
	// decodeInto);
	// kept: it did.
	lent, kept bool
	// c is the connection the answer came on: a stream's items follow on
	// it, not on the one the peer has after a reconnection.
	c *conn
}

// release gives the frame back to the pool once the reply is decoded and
// nothing aliases it (Unmarshal copies what it keeps), or only its holder
// when the result is a slice of it.
func (r *Reply) release() {
	if r.kept {
		session.KeepFrame(r.frame)
	} else {
		session.PutFrame(r.frame)
	}
	r.frame, r.raw, r.kept = nil, nil, false
}

// decodeInto decodes the result into ptr for a caller that releases the
// reply next (see unmarshalFrom).
func (r *Reply) decodeInto(ptr any) (err error) {
	r.kept, err = unmarshalFrom(r.raw, ptr, r.limits, r.lent)
	return err
}

// unmarshalFrom decodes raw into v. With lent (raw is in a frame only its
// caller holds) a long binary value is a slice of the frame instead of a
// copy (protocol.UnmarshalLent), and kept reports that the frame must not
// be reused.
func unmarshalFrom(raw protocol.RawValue, v any, lim protocol.Limits, lent bool) (kept bool, err error) {
	if lent {
		return protocol.UnmarshalLent(raw, v, lim)
	}
	return false, protocol.UnmarshalLimits(raw, v, lim)
}

// Raw returns the encoded result.
func (r *Reply) Raw() protocol.RawValue { return r.raw }

// Decode decodes the result into v (a pointer).
func (r *Reply) Decode(v any) error {
	if err := protocol.UnmarshalLimits(r.raw, v, r.limits); err != nil {
		return NewError(CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return nil
}

// Value decodes the result into the generic value model.
func (r *Reply) Value() (any, error) { return protocol.DecodeValue(r.raw, r.limits) }

// StreamReference returns the stream reference a stream method answers
// with, or false.
func (r *Reply) streamReference() (*protocol.StreamReference, bool) {
	v, err := r.Value()
	if err != nil {
		return nil, false
	}
	switch ref := v.(type) {
	case protocol.StreamReference:
		return &ref, true
	case *protocol.StreamReference:
		return ref, true
	}
	return nil, false
}

// Call calls method on the service target ("calculator@1.0.0",
// "calculator@^1" or "calculator") with positional args and returns the
// encoded reply. Without a deadline on ctx the request timeout applies.
func (p *Peer) Call(ctx context.Context, target, method string, args ...any) (*Reply, error) {
	return p.call(ctx, newClientCall(false), target, method, args)
}

// call makes the call described by call.
func (p *Peer) call(ctx context.Context, call *Call, target, method string, args []any) (*Reply, error) {
	call.prepare(ctx, target, method, args, p.n.limits)
	call.Peer = p
	res, err := p.n.clientUnary(ctx, call)
	if err != nil {
		return nil, err
	}
	return res.(*Reply), nil
}

// prepare fills a calling side's Call (its peer aside) for a call of
// method of target with args, made under ctx: a Peer's calls and a Pool's.
func (call *Call) prepare(ctx context.Context, target, method string, args []any, limits protocol.Limits) {
	call.Service, call.Method, call.limits = target, method, limits
	call.Metadata = outgoingMetadata(ctx)
	// A copy into the Call's own room: the caller's argument slice stays
	// on its stack.
	if len(args) <= len(call.cli.argBuf) {
		call.args = append(call.cli.argBuf[:0], args...)
	} else {
		call.args = append([]any(nil), args...)
	}
}

// send performs a call on the wire (innermost client handler).
//
// For a stream, the request timeout bounds only the wait for the
// StreamReference; the stream itself lives as long as the caller's context.
func (p *Peer) sendCall(ctx context.Context, call *Call, stream bool) (*Reply, error) {
	p.inflight.Add(1)
	defer p.inflight.Add(-1)
	if p.calls != nil {
		return p.invokeCalls(ctx, call)
	}
	callerDeadline, hasDeadline := ctx.Deadline()
	bounded := false // ctx carries the request timeout (a query_interface was needed)
	for attempt := 0; ; attempt++ {
		c, err := p.conn()
		if err != nil {
			return nil, err
		}
		timeout := time.Duration(0)
		if !hasDeadline && !bounded {
			timeout = p.n.cfg.RequestTimeout
		}
		defID, known := p.knownID(call.Service)
		if !known {
			if timeout > 0 {
				// The request timeout bounds the query_interface and the
				// call together: one timeout for the whole call.
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer within %v: %w", timeout, context.DeadlineExceeded))
				defer cancel()
				bounded, timeout = true, 0
			}
			if defID, err = p.resolve(ctx, c, call.Service); err != nil {
				return nil, err
			}
		}
		// A header only when there is something to say: the caller's own
		// deadline or metadata. The request timeout stays on this side (a
		// call that times out is cancelled on the server).
		hdr := c.ext.Load() && (hasDeadline || len(call.Metadata) > 0)
		pkt := protocol.Packet{ID: nextPacketID(), Type: protocol.TypeCall, Impulse: true, Live: hdr}
		w := session.GetBuf()
		if w.B, err = appendCall(w.B, &pkt, defID, call, hdr, hasDeadline, callerDeadline); err != nil {
			session.PutBuf(w)
			return nil, asWireError(err)
		}
		r, err := c.requestEncoded(ctx, pkt.ID, pkt.Type, w, timeout)
		if err != nil {
			return nil, err
		}
		if r.Packet.Error {
			rerr := p.remoteError(r.Payload)
			if attempt == 0 && isStaleDefinition(rerr) {
				p.mu.Lock()
				delete(p.resolved, call.Service)
				p.mu.Unlock()
				continue
			}
			if hasDeadline && rerr.Code() == CodeDeadlineExceeded && time.Until(callerDeadline) <= deadlineSkew {
				// The server's copy of the caller's deadline (sent in whole
				// milliseconds, rounded down) ended the call a moment before
				// the caller's own: the caller gets its context's error, as
				// when its own deadline comes first (errors.Is
				// context.DeadlineExceeded, its WithTimeoutCause reason).
				<-ctx.Done()
				return nil, ctxError(ctx)
			}
			return nil, rerr
		}
		if call.cli == nil { // a Call an interceptor made
			call.cli = new(clientRoom)
		}
		call.cli.reply = Reply{raw: r.Payload, limits: p.n.limits, frame: r.Frame, lent: true, c: c}
		return &call.cli.reply, nil
	}
}

// deadlineSkew is how much earlier than the caller's deadline the server's
// copy of it may end a call: the timeout is sent in whole milliseconds,
// rounded down.
const deadlineSkew = 5 * time.Millisecond

// appendCall appends a CALL packet [defID, method, header?, ...args]
// piece by piece, without building the payload array.
func appendCall(b []byte, pkt *protocol.Packet, defID string, call *Call, hdr, hasDeadline bool, deadline time.Time) ([]byte, error) {
	n := 2 + len(call.args)
	if hdr {
		n++
	}
	b = protocol.AppendPacketHeader(b, pkt)
	b = protocol.AppendArrayHeader(b, n)
	b = protocol.AppendString(b, defID)
	b = protocol.AppendString(b, call.Method)
	var err error
	if hdr {
		h := protocol.CallHeader{Metadata: call.Metadata}
		if hasDeadline {
			h.Timeout = max(1, time.Until(deadline).Milliseconds())
		}
		var ok bool
		if b, ok = protocol.AppendCallHeader(b, &h); !ok {
			return b, Errorf(CodeInvalidArgument, "%s.%s: the call's metadata has %d keys; at most 65,535 can be sent", call.Service, call.Method, len(h.Metadata))
		}
	}
	for _, a := range call.args {
		if b, err = protocol.AppendValue(b, a); err != nil {
			return b, err
		}
	}
	return b, nil
}

// clientUnary is the calling side's chain for unary calls.
func (n *Netron) clientUnary(ctx context.Context, call *Call) (any, error) {
	return n.clientChain(ctx, call)
}

// sendUnary is the innermost handler of the calling side's unary chain.
func sendUnary(ctx context.Context, call *Call) (any, error) {
	return call.Peer.sendCall(ctx, call, false)
}

// CallStream calls a stream method and returns its items, encoded, as they
// arrive: the shape of [CallStream], which decodes them into a T, as
// [Peer.Call] is [CallUnary]'s. An item is valid until the next one is
// read. A failure to open the stream is the first and only error yielded;
// breaking out of the loop closes the stream. ctx bounds the whole stream.
func (p *Peer) CallStream(ctx context.Context, target, method string, args ...any) iter.Seq2[protocol.RawValue, error] {
	return func(yield func(protocol.RawValue, error) bool) {
		s, err := p.OpenStream(ctx, target, method, args...)
		if err != nil {
			yield(nil, err)
			return
		}
		defer s.Close()
		for {
			v, err := s.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// OpenStream calls a stream method and returns the stream itself, for
// what reads it item by item ([Stream.Next], [Stream.Recv]), watches its
// end ([Stream.OnEnd]: an interceptor's WrapStreamingClient) or closes it
// from elsewhere. ctx bounds the whole stream; close the Stream to stop
// early. [Peer.CallStream] and [CallStream] are the loops over it.
func (p *Peer) OpenStream(ctx context.Context, target, method string, args ...any) (*Stream, error) {
	call := newClientCall(false)
	call.Service, call.Method, call.Peer, call.args, call.limits = target, method, p, args, p.n.limits
	call.Metadata = outgoingMetadata(ctx)
	f := chainStreamingClient(p.n.interceptors, func(ctx context.Context, call *Call) (*Stream, error) {
		return call.Peer.openStream(ctx, call)
	})
	return f(ctx, call)
}

func (p *Peer) openStream(ctx context.Context, call *Call) (*Stream, error) {
	if p.calls != nil {
		return p.openCallsStream(ctx, call)
	}
	sctx, cancel := context.WithCancel(ctx)
	reply, err := p.sendCall(sctx, call, true)
	if err != nil {
		cancel()
		return nil, err
	}
	ref, ok := reply.streamReference()
	if !ok {
		cancel()
		return nil, Errorf(CodeInvalidArgument, "%s.%s is not a stream method", call.Service, call.Method)
	}
	// The items come on the connection the reference came on; if it has
	// ended since, the stream ends at once with its error (Claim).
	c := reply.c
	rs, why := c.inbound.ClaimOrWhy(ref.StreamID)
	if rs == nil {
		cancel()
		c.stopStream(ref.StreamID) // its producer would run on until its idle timeout
		return nil, p.streamRefused(call, why)
	}
	p.inflight.Add(1) // until the stream ends (Stream.end)
	s := &Stream{peer: p, rs: rs, c: c, ctx: sctx, cancel: cancel, limits: p.n.limits, idle: p.n.cfg.StreamIdleTimeout, window: p.n.cfg.StreamWindow,
		windowBytes: p.n.streamWindowBytes(), batch: make([]protocol.RawValue, 0, streamBatchCap)}
	s.closeOnCancel(sctx)
	return s, nil
}

// streamRefused is the error of a stream whose reader could not claim it,
// for the reason why (session.Inbounds.ClaimOrWhy).
func (p *Peer) streamRefused(call *Call, why error) error {
	switch why {
	case session.ErrUnclaimed:
		return Errorf(CodeDeadlineExceeded, "%s.%s: stream refused: its items waited unclaimed on the connection to %s for %v (streamIdleTimeout) and were dropped",
			call.Service, call.Method, p.RemoteAddr(), p.n.cfg.StreamIdleTimeout)
	case session.ErrFull:
		return Errorf(CodeResourceExhausted, "%s.%s: stream refused: this connection to %s reads as many streams as it may (maxStreamsPerPeer %d)",
			call.Service, call.Method, p.RemoteAddr(), p.n.cfg.MaxStreamsPerPeer)
	default:
		return Errorf(CodeCanceled, "%s.%s: stream refused: this side had already cancelled it on the connection to %s",
			call.Service, call.Method, p.RemoteAddr())
	}
}

// CallUnary calls a unary method and decodes its result into a T.
func CallUnary[T any](ctx context.Context, p *Peer, target, method string, args ...any) (T, error) {
	// The reply is decoded here and nothing else sees the Call: it may be
	// pooled (see servedCalls).
	call := newClientCall(p.n.poolCalls)
	r, err := p.call(ctx, call, target, method, args)
	if err != nil {
		call.release()
		var zero T
		return zero, err
	}
	var out T
	out, r.kept, err = decodeAs[T](r.raw, r.limits, r.lent)
	r.release()
	call.release()
	if err != nil {
		return out, NewError(CodeInternal, fmt.Errorf("decode result: %w", err))
	}
	return out, nil
}

// decodeAs decodes raw into a T, as unmarshalFrom does. Common scalar
// targets stay off the heap (protocol.UnmarshalScalar); others take the
// general decoder.
func decodeAs[T any](raw protocol.RawValue, lim protocol.Limits, lent bool) (v T, kept bool, err error) {
	var ok bool
	if lent {
		ok, kept, err = protocol.UnmarshalScalarLent(raw, &v, lim)
	} else {
		ok, err = protocol.UnmarshalScalar(raw, &v, lim)
	}
	if ok {
		return v, kept, err
	}
	var general T // escapes to the decoder: allocated on this path only
	kept, err = unmarshalFrom(raw, &general, lim, lent)
	return general, kept, err
}

// CallStream calls a stream method and returns its items as T.
func CallStream[T any](ctx context.Context, p *Peer, target, method string, args ...any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		s, err := p.OpenStream(ctx, target, method, args...)
		if err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for v, err := range All[T](s) {
			if !yield(v, err) {
				return
			}
		}
	}
}
