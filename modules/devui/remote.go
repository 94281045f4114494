package devui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Remote returns the Backend of the app at addr reached through p, a
// peer dialled to it (`titan dev ADDR` serves the UI so): its services
// as p's connection may see them, its calls made through p with the
// page's token as the call's bearer token (the remote app's security
// module checks it), the events it sends to p (by exact name: a peer
// subscribes to events by name; as p's connection may, whatever the
// page's token) and p's own connection as the list of
// peers. A remote app's metrics are not read through Netron: the glance
// says where to find them.
func Remote(p *netron.Peer, addr string) Backend {
	return &remote{p: p, addr: addr, events: map[string]*remoteEvent{}}
}

type remote struct {
	p    *netron.Peer
	addr string

	// events serves the event monitor's subscriptions to an event
	// through one of the peer's to it; mu guards the map (not the
	// subscriptions, which wait for the peer: the fanout of each name
	// orders its own).
	mu     sync.Mutex
	events map[string]*remoteEvent
}

// remoteEvent serves the subscriptions to an event name.
type remoteEvent struct {
	fanout
	adding int // subscriptions being made, under remote.mu: the entry stays while there are
}

func (r *remote) Info() Info {
	return Info{App: r.addr, ID: r.p.ID(), Remote: true}
}

// Caller sends the page's token with each call the caller makes; the
// remote app decides.
func (r *remote) Caller(ctx context.Context, c netron.Credentials) (context.Context, error) {
	if c.Token == "" {
		return ctx, nil
	}
	return netron.WithOutgoingMetadata(ctx, map[string]string{"authorization": "Bearer " + c.Token}), nil
}

func (r *remote) Services(ctx context.Context) ([]Service, error) {
	list, err := r.p.Services(ctx)
	if err != nil {
		if netron.CodeOf(err) == netron.CodeNotFound {
			return nil, fmt.Errorf("%w (the app at %s cannot list its services: a TypeScript server?)", err, r.addr)
		}
		return nil, err
	}
	out := []Service{}
	for _, s := range list {
		def, err := r.p.Definition(ctx, netron.QualifiedName(s.Name, s.Version))
		if err != nil {
			return nil, err
		}
		d, err := netron.DescribeDefinition(def)
		if err != nil {
			return nil, err
		}
		out = append(out, serviceOf(d, func(string) bool { return true }))
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version))
	})
	return out, nil
}

func (r *remote) Call(ctx context.Context, service, method string, args []protocol.RawValue) (any, error) {
	reply, err := r.p.Call(ctx, service, method, anys(args)...)
	if err != nil {
		return nil, err
	}
	v, err := reply.Value()
	if err != nil {
		return nil, netron.Errorf(netron.CodeInternal, "the result of %s.%s cannot be read: %v", service, method, err)
	}
	switch v.(type) {
	case protocol.StreamReference, *protocol.StreamReference:
		return nil, netron.Errorf(netron.CodeUnimplemented,
			"%s.%s answered with a stream, but its definition does not mark it as one (a TypeScript server?)", service, method)
	}
	return v, nil
}

func (r *remote) Stream(ctx context.Context, service, method string, args []protocol.RawValue) (iter.Seq2[any, error], error) {
	return func(yield func(any, error) bool) {
		for raw, err := range r.p.CallStream(ctx, service, method, anys(args)...) {
			if !yield(raw, err) || err != nil {
				return
			}
		}
	}, nil
}

func (r *remote) Subscribe(ctx context.Context, pattern string, h netron.EventHandler) (func(), error) {
	if strings.ContainsAny(pattern, "*>") {
		return nil, netron.Errorf(netron.CodeInvalidArgument,
			"a remote app sends a peer the events it names exactly: subscribe to an event name such as calculator.computed, not the pattern %q", pattern)
	}
	r.mu.Lock()
	ev := r.events[pattern]
	if ev == nil {
		ev = &remoteEvent{}
		r.events[pattern] = ev
	}
	ev.adding++
	r.mu.Unlock()
	// The peer sends the fanout the events of this name only. The first
	// subscription waits for the peer's answer: without r.mu, so that a
	// slow peer holds up no subscription to another name, nor the end of
	// one.
	end, err := ev.add(nil, h, func() (func(), error) { return r.peerSubscribe(ctx, pattern, ev.dispatch) })
	r.mu.Lock()
	ev.adding--
	r.forget(pattern, ev)
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return func() {
		end()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.forget(pattern, ev)
	}, nil
}

// forget removes ev, the entry of the event name pattern, once it serves
// no subscription and none is being made. r.mu is held.
func (r *remote) forget(pattern string, ev *remoteEvent) {
	if ev.adding == 0 && ev.empty() && r.events[pattern] == ev {
		delete(r.events, pattern)
	}
}

// peerSubscribe subscribes h to the event name through the peer.
func (r *remote) peerSubscribe(ctx context.Context, pattern string, h netron.EventHandler) (func(), error) {
	unsubscribe, err := r.p.Subscribe(ctx, pattern, h)
	if code := netron.CodeOf(err); code == netron.CodeUnauthenticated || code == netron.CodePermissionDenied {
		// The remote app decides as for the peer's connection: the
		// page's token, sent with calls, does not reach it.
		refused := netron.Errorf(code, "%s (the app at %s decides subscriptions by the connection of titan dev, which its --token authenticates: the page's token goes with calls only)",
			netron.MessageOf(err), r.addr)
		if ne, ok := errors.AsType[*netron.Error](err); ok {
			refused = refused.WithDetails(ne.Details())
		}
		return nil, refused
	}
	return unsubscribe, err
}

func (r *remote) Peers(context.Context) ([]PeerInfo, error) {
	return []PeerInfo{peerInfo(r.p)}, nil
}

// peerInfo describes p for the page.
func peerInfo(p *netron.Peer) PeerInfo {
	return PeerInfo{
		ID: p.ID(), RemoteAddr: p.RemoteAddr(), Transport: p.Transport(),
		Dialled: p.Dialled(), Connected: p.Connected(), InFlight: p.InFlight(),
	}
}

func (r *remote) Metrics(context.Context) (Glance, error) {
	return Glance{Reason: "the metrics of a remote app are served by its admin server and under /_titan/metrics on its http:// listeners, not through Netron"}, nil
}

// anys returns args as the arguments of a call: encoded values, sent as
// they are.
func anys(args []protocol.RawValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}
