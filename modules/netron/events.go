package netron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Events publishes and subscribes to named events, in this process and
// across peers.
//
// Event names are dot-separated tokens ("chat.message"). A local pattern
// is a name in which "*" stands for exactly one token and a final ">" for
// one or more tokens ("chat.*", "orders.>"), as in NATS. Subscriptions sent
// to a peer (the subscribe task) name exact events, as the original
// protocol requires.
type Events interface {
	// Emit delivers payload to the local subscribers whose pattern matches
	// topic, in subscription order, and sends it to each peer subscribed to
	// topic. A local subscriber's handler is called by Emit, on the
	// emitting goroutine: Emits made at once from several goroutines call
	// it at once. Events for one peer are delivered in the order emitted;
	// one emitted while the peer's send queue is full (it reads slower
	// than events come: Config.MaxQueuedBytesPerPeer,
	// Config.MaxQueuedBytes) is dropped for that peer, so that Emit and
	// the other subscribers never wait for it. An event larger than Config.MaxFrameSize once encoded
	// for a subscribed peer is refused, as a request or an answer over it
	// is: Emit returns a resource_exhausted error naming the topic and the
	// limit, and delivers it to no one.
	Emit(ctx context.Context, topic string, payload any) error
	// Subscribe calls handler for every event whose name matches pattern,
	// until the returned function is called. It has the signature of
	// [Peer.Subscribe]: ctx bounds subscribing (a subscription made after
	// ctx ended is refused), not the subscription. Once the unsubscribe
	// function has returned, handler is not called again; it does not
	// wait for a call already running (a handler may unsubscribe itself),
	// which may still be running when it returns.
	Subscribe(ctx context.Context, pattern string, handler EventHandler) (unsubscribe func(), err error)
}

// Event is one delivered event.
type Event struct {
	// Topic is the event name.
	Topic string
	// Payload is the event's value: the Go value for a local event, the
	// generic Netron value for one received from a peer. Use Decode for a
	// typed copy.
	Payload any
	// Peer is the peer the event came from, or nil for a local one.
	Peer *Peer

	raw protocol.RawValue
}

// Decode decodes the payload into v (a pointer), as a call result is.
func (e Event) Decode(v any) error {
	raw := e.raw
	if raw == nil {
		b, err := protocol.Marshal(e.Payload)
		if err != nil {
			return err
		}
		raw = b
	}
	return protocol.Unmarshal(raw, v)
}

// EventHandler handles an event. The handlers of a [Peer.Subscribe] are
// called one at a time, in the order the peer emitted; those of a local
// subscription ([Events]) by each Emit, on its goroutine, so Emits from
// several goroutines may call one at once: a handler they share guards
// its own state.
type EventHandler func(ctx context.Context, e Event)

type eventHandler struct {
	tokens  []string
	pattern string
	fn      EventHandler
	// removed is set by the unsubscribe function: a delivery that listed
	// the handler before does not call it.
	removed atomic.Bool
}

func validPattern(p string) error {
	if p == "" {
		return errors.New("netron: empty event pattern")
	}
	toks := strings.Split(p, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return fmt.Errorf("netron: event pattern %q has an empty token", p)
		case t == ">" && i != len(toks)-1:
			return fmt.Errorf("netron: event pattern %q: '>' must be the last token", p)
		case t != "*" && t != ">" && strings.ContainsAny(t, "*>"):
			// An event name has no wildcards: such a token would match
			// nothing, and the subscription would wait for ever.
			return fmt.Errorf("netron: event pattern %q: a wildcard is a whole token (%q is not): * for one token, a final > for the rest", p, t)
		}
	}
	return nil
}

// EventPattern is a pattern of event names as [Netron.Subscribe] takes
// it, parsed once: dot-separated tokens, "*" for exactly one token and a
// final ">" for one or more. The security module matches its rules of
// security.events with it, as subscriptions are matched.
type EventPattern struct{ tokens []string }

// ParseEventPattern parses p, refusing what Subscribe refuses.
func ParseEventPattern(p string) (EventPattern, error) {
	if err := validPattern(p); err != nil {
		return EventPattern{}, err
	}
	return EventPattern{tokens: strings.Split(p, ".")}, nil
}

// Match reports whether the event name matches the pattern.
func (p EventPattern) Match(name string) bool { return matchTokens(p.tokens, name) }

// matchTokens reports whether topic matches the pattern's tokens.
func matchTokens(pattern []string, topic string) bool {
	for i, p := range pattern {
		if p == ">" {
			return topic != ""
		}
		if topic == "" {
			return false
		}
		tok, rest, more := strings.Cut(topic, ".")
		if p != "*" && p != tok {
			return false
		}
		topic = rest
		if !more {
			return i == len(pattern)-1
		}
	}
	return false
}

// eventBus holds the local subscriptions and the peers subscribed to
// events.
type eventBus struct {
	log   *slog.Logger
	mu    sync.RWMutex
	local []*eventHandler
	peers map[string]map[*Peer]struct{} // exact topic -> subscribed peers
}

func newEventBus(log *slog.Logger) *eventBus {
	return &eventBus{log: log, peers: map[string]map[*Peer]struct{}{}}
}

func (b *eventBus) subscribe(pattern string, fn EventHandler) (func(), error) {
	if err := validPattern(pattern); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, errors.New("netron: nil event handler")
	}
	h := &eventHandler{tokens: strings.Split(pattern, "."), pattern: pattern, fn: fn}
	b.mu.Lock()
	b.local = append(b.local, h)
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.removed.Store(true)
			b.mu.Lock()
			defer b.mu.Unlock()
			for i, x := range b.local {
				if x == h {
					b.local = append(b.local[:i:i], b.local[i+1:]...)
					return
				}
			}
		})
	}, nil
}

// subscribePeer records that p wants topic (the subscribe task); ctx is
// the task's, which ends with its connection. A task that runs after the
// connection ended records nothing: the connection's end (Peer.connLost,
// under p.mu after the context ended) has already dropped the peer's
// subscriptions, and nothing would drop this one.
func (b *eventBus) subscribePeer(ctx context.Context, p *Peer, topic string, limit int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil {
		return errConnLost
	}
	if _, ok := p.remoteSubs[topic]; ok {
		return nil
	}
	if len(p.remoteSubs) >= limit {
		return Errorf(CodeResourceExhausted, "Too many requests").WithDetails(protocol.Object{
			{Key: "retryAfter", Value: protocol.Undefined{}}, {Key: "reason", Value: "subscription_limit_exceeded"},
			{Key: "peerId", Value: p.remoteID}, {Key: "limit", Value: limit},
		})
	}
	b.mu.Lock()
	set := b.peers[topic]
	if set == nil {
		set = map[*Peer]struct{}{}
		b.peers[topic] = set
	}
	set[p] = struct{}{}
	b.mu.Unlock()
	p.remoteSubs[topic] = func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.peers[topic], p)
		if len(b.peers[topic]) == 0 {
			delete(b.peers, topic)
		}
	}
	return nil
}

// dropPeer forgets a closed peer's subscriptions.
func (b *eventBus) dropPeer(p *Peer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for topic, set := range b.peers {
		delete(set, p)
		if len(set) == 0 {
			delete(b.peers, topic)
		}
	}
}

func (b *eventBus) emit(ctx context.Context, topic string, payload any) error {
	if topic == "" || strings.ContainsAny(topic, "*>") {
		return fmt.Errorf("netron: cannot emit to %q: an event name has no wildcards", topic)
	}
	b.mu.RLock()
	var handlers []*eventHandler
	for _, h := range b.local {
		if matchTokens(h.tokens, topic) {
			handlers = append(handlers, h)
		}
	}
	var peers []*Peer
	for p := range b.peers[topic] {
		peers = append(peers, p)
	}
	b.mu.RUnlock()

	var errs []error
	if len(peers) > 0 {
		// Encode once for every peer.
		body, err := protocol.Marshal([]any{TaskEmit, topic, payload})
		if err != nil {
			return fmt.Errorf("netron: emit %s: %w", topic, err)
		}
		// Refused as a request or an answer over the frame limit is (the
		// peer would close the connection it came on), before it reaches
		// anyone. The peers are one Netron's: one limit.
		if size, limit := eventHeader+len(body), peers[0].n.cfg.MaxFrameSize; size > limit {
			return Errorf(CodeResourceExhausted, "cannot emit %q: the event is %d bytes, over the frame limit of %d (netron.maxFrameSize)", topic, size, limit)
		}
		recv, _ := peers[0].n.access.(EventReceiver)
		for _, p := range peers {
			if recv != nil && !recv.MayReceive(p, topic) {
				continue
			}
			if err := p.sendEvent(body, topic); err != nil {
				errs = append(errs, err)
			}
		}
	}
	ev := Event{Topic: topic, Payload: payload}
	for _, h := range handlers {
		b.call(ctx, h, ev)
	}
	if len(errs) > 0 {
		b.log.Debug("event not delivered to every peer", "topic", topic, "errors", len(errs))
	}
	return nil
}

func (b *eventBus) call(ctx context.Context, h *eventHandler, ev Event) {
	if h.removed.Load() { // unsubscribed since the delivery listed it
		return
	}
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("event handler panicked", "pattern", h.pattern, "topic", ev.Topic, "panic", fmt.Sprint(r))
		}
	}()
	h.fn(ctx, ev)
}

// Emit implements [Events].
func (n *Netron) Emit(ctx context.Context, topic string, payload any) error {
	return n.events.emit(ctx, topic, payload)
}

// Subscribe implements [Events]. Once the returned function has returned,
// handler is not called again; a call of it already running is not waited
// for (a handler may unsubscribe itself).
func (n *Netron) Subscribe(ctx context.Context, pattern string, handler EventHandler) (func(), error) {
	return n.events.subscribeCtx(ctx, pattern, handler)
}

func (b *eventBus) subscribeCtx(ctx context.Context, pattern string, handler EventHandler) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, NewError(CodeOf(err), fmt.Errorf("subscribe to %q: %w", pattern, err))
	}
	return b.subscribe(pattern, handler)
}

// appEvents are the Events of an app, provided by the netron module before
// its Netron exists, so that the constructors of its services may take
// them: the Netron is built from the services, and then uses the same bus
// (an event emitted before the app starts reaches the local subscribers;
// peers subscribe once it listens).
type appEvents struct{ b *eventBus }

// Emit implements [Events].
func (e appEvents) Emit(ctx context.Context, topic string, payload any) error {
	return e.b.emit(ctx, topic, payload)
}

// Subscribe implements [Events].
func (e appEvents) Subscribe(ctx context.Context, pattern string, handler EventHandler) (func(), error) {
	return e.b.subscribeCtx(ctx, pattern, handler)
}

// sendEvent sends an emit TASK whose payload (the array) is already
// encoded. Nobody waits for the answer; it is dropped on arrival. While
// the connection's send queue is full the event is dropped instead of
// waiting for room (a peer that does not read would hold every Emit of
// topic up to Config.WriteStallTimeout), with one log record for the
// connection.
func (p *Peer) sendEvent(body []byte, topic string) error {
	c := p.cur.Load()
	if c == nil {
		return errConnLost
	}
	w := session.GetBuf()
	id := nextPacketID()
	w.B = append(w.B, byte(id>>24), byte(id>>16), byte(id>>8), byte(id), 0x40|byte(protocol.TypeTask))
	w.B = append(w.B, body...)
	c.evUnanswered.Add(1)         // before it is sent: its answer may come at once
	queued, err := c.q.TrySend(w) // compressed for a Go peer, as other packets are
	if !queued {
		c.eventAnswered() // not sent: no answer comes
	}
	if err != nil || queued {
		return coded(err)
	}
	if c.evDropped.Add(1) == 1 {
		p.log.Warn("dropping the events for a peer whose send queue is full: it reads slower than they are emitted",
			"topic", clip(topic), "queued_bytes", c.q.Queued(), "limit", "netron.maxQueuedBytesPerPeer / maxQueuedBytes")
	}
	return errEventDropped
}

// eventHeader is the header sendEvent puts before an event's body: the
// packet id and the flags byte.
const eventHeader = 5

var errEventDropped = errors.New("netron: event dropped: the peer's send queue is full")

// Subscribe asks the peer to send it the events named topic (an exact
// name), and calls handler for each, one at a time in the order the peer
// sent them. A dialled peer subscribes again after reconnecting. The
// returned function unsubscribes: once it has returned, handler is not
// called again. It does not wait for a call of handler already running
// (a handler may unsubscribe itself), which may still be running when it
// returns.
func (p *Peer) Subscribe(ctx context.Context, topic string, handler EventHandler) (unsubscribe func(), err error) {
	if topic == "" || strings.ContainsAny(topic, "*>") {
		return nil, fmt.Errorf("netron: subscribe to %q: peers take exact event names", topic)
	}
	if handler == nil {
		return nil, errors.New("netron: nil event handler")
	}
	if p.calls != nil {
		return nil, p.errNotOverCalls("subscribing to events")
	}
	// The task and the change of handlers go together (subMu): an
	// unsubscribe of the topic's last handler meanwhile would otherwise
	// end on the server the subscription this one adds.
	if err := p.lockSubs(ctx); err != nil {
		return nil, NewError(CodeOf(err), fmt.Errorf("subscribe to %q: %w", topic, err))
	}
	defer p.subMu.Unlock()
	if _, err := p.task(ctx, TaskSubscribe, topic); err != nil {
		return nil, err
	}
	h := &eventHandler{pattern: topic, fn: handler}
	p.mu.Lock()
	p.handlers[topic] = append(p.handlers[topic], h)
	p.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.removed.Store(true)
			p.subMu.Lock()
			defer p.subMu.Unlock()
			p.mu.Lock()
			hs := p.handlers[topic]
			for i, x := range hs {
				if x == h {
					hs = append(hs[:i:i], hs[i+1:]...)
					break
				}
			}
			if len(hs) == 0 {
				delete(p.handlers, topic)
			} else {
				p.handlers[topic] = hs
			}
			last := len(hs) == 0
			p.mu.Unlock()
			if last {
				ctx, cancel := context.WithTimeout(context.Background(), p.n.cfg.RequestTimeout)
				defer cancel()
				_, _ = p.task(ctx, TaskUnsubscribe, topic)
			}
		})
	}, nil
}

// lockSubs takes subMu, or gives up with ctx's error (as a request's) when
// ctx ends first: the subscribe or unsubscribe of another goroutine, or
// the restore after a reconnect, may hold it for a RequestTimeout on a
// slow link.
func (p *Peer) lockSubs(ctx context.Context) error {
	if p.subMu.TryLock() {
		return nil
	}
	locked := make(chan struct{})
	go func() {
		p.subMu.Lock()
		close(locked)
	}()
	select {
	case <-locked:
		return nil
	case <-ctx.Done():
		go func() { // taken later: given back at once
			<-locked
			p.subMu.Unlock()
		}()
		return ctxError(ctx)
	}
}

// deliver runs the handlers of a received event.
func (p *Peer) deliver(ctx context.Context, topic string, payload any) {
	// One event at a time, also across connections: the events of a lost
	// connection that still wait for their handlers must not run beside
	// those of the connection that replaced it.
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	p.mu.Lock()
	hs := append([]*eventHandler(nil), p.handlers[topic]...)
	p.mu.Unlock()
	ev := Event{Topic: topic, Payload: payload, Peer: p}
	if raw, ok := payload.(protocol.RawValue); ok {
		ev.raw = raw
		v, err := protocol.DecodeValue(raw, p.n.limits)
		if err != nil {
			p.log.Warn("dropped an undecodable event", "topic", topic, "error", err)
			return
		}
		ev.Payload = v
	}
	for _, h := range hs {
		p.n.events.call(ctx, h, ev)
	}
}
