package devui

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Local returns the Backend of the app's own Netron n, the one [Module]
// serves: services and calls as the HTTP gateway has them (the contracts,
// the interceptors and the security module's access apply, and
// titan.Transports restrictions as for the transport of the page's
// request), the Netron's events and peers, and a glance at the series of
// g when it is not nil (modules/metrics provides the app's).
//
// With the security module on, the event monitor, the peers and the
// metrics, which show the whole app, are shown only to a caller who may
// call every method the app serves; the monitor sends the events of the
// names the app restricts (security.events) only to a caller who may
// subscribe to them, and refuses a subscription to one such name.
func Local(n *netron.Netron, g prometheus.Gatherer) Backend {
	return &local{n: n, gatherer: g}
}

// local is the Backend of a Netron of this process.
type local struct {
	n        *netron.Netron
	gatherer prometheus.Gatherer // nil without metrics

	mu      sync.RWMutex
	methods map[string][]string // the methods of each service by qualified name, as seesAll met them

	// events serves the event monitor's subscriptions through one to
	// every event of the Netron.
	events fanout
}

// caller is what Caller notes in the context besides what the Netron's
// Access put there: the transport the page came through and its token.
type caller struct {
	transport string
	token     string
}

type callerKey struct{}

func callerOf(ctx context.Context) caller {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c
}

func (l *local) Info() Info {
	return Info{App: "this app", ID: l.n.ID(), Patterns: true}
}

func (l *local) Caller(ctx context.Context, c netron.Credentials) (context.Context, error) {
	if a := l.n.Access(); a != nil {
		ictx, err := a.Identify(ctx, c)
		if err != nil {
			return nil, err
		}
		ctx = ictx
	}
	ctx = netron.WithRemoteAddr(ctx, c.RemoteAddr)
	return context.WithValue(ctx, callerKey{}, caller{transport: c.Transport, token: c.Token}), nil
}

func (l *local) Services(ctx context.Context) ([]Service, error) {
	transport := callerOf(ctx).transport
	out := []Service{}
	for _, d := range l.n.Describe() {
		q := netron.QualifiedName(d.Name, d.Version)
		// Not found when the service is not exposed on the transport or
		// the caller may call none of its methods.
		if _, err := l.n.DefinitionFor(ctx, q, transport); err != nil {
			continue
		}
		visible := l.n.VisibleMethods(ctx, q)
		out = append(out, serviceOf(d, func(method string) bool { return slices.Contains(visible, method) }))
	}
	return out, nil
}

// invocation is the call of method of service by the caller in ctx.
func (l *local) invocation(ctx context.Context, service, method string, args []protocol.RawValue) *netron.Invocation {
	c := callerOf(ctx)
	inv := &netron.Invocation{Service: service, Method: method, Args: args, Transport: c.transport}
	if c.token != "" {
		// As the HTTP gateway passes it, for the interceptors that read
		// the metadata; the caller is already identified in ctx.
		inv.Metadata = map[string]string{"authorization": "Bearer " + c.token}
	}
	return inv
}

func (l *local) Call(ctx context.Context, service, method string, args []protocol.RawValue) (any, error) {
	return l.n.Invoke(ctx, l.invocation(ctx, service, method, args))
}

func (l *local) Stream(ctx context.Context, service, method string, args []protocol.RawValue) (iter.Seq2[any, error], error) {
	return l.n.InvokeStream(ctx, l.invocation(ctx, service, method, args))
}

func (l *local) Subscribe(ctx context.Context, pattern string, h netron.EventHandler) (func(), error) {
	if err := l.seesAll(ctx, "the event monitor"); err != nil {
		return nil, err
	}
	if l.n.Access() != nil {
		// The caller's credentials may expire while the feed is open:
		// their events are sent as long as their calls would be taken.
		// The events of names the app restricts (security.events) are
		// sent only to a caller who may subscribe to them: a pattern
		// covers names the rules decide one by one.
		ea, _ := l.n.Access().(netron.EventAccess)
		if ea != nil && !strings.ContainsAny(pattern, "*>") {
			// One event name: a caller who may not subscribe to it is
			// refused, as a peer is, rather than told it subscribed and
			// then sent nothing.
			if _, err := netron.ParseEventPattern(pattern); err == nil {
				if err := ea.MaySubscribe(ctx, pattern); err != nil {
					return nil, err
				}
			}
		}
		// Each event is decided without a refusal logged, where the
		// Access can (netron.EventFilter): the caller did not ask for it.
		ef, _ := l.n.Access().(netron.EventFilter)
		next := h
		h = func(ectx context.Context, e netron.Event) {
			if l.seesAll(ctx, "the event monitor") != nil {
				return
			}
			if ef != nil {
				if !ef.MayReceiveEvent(ctx, e.Topic) {
					return
				}
			} else if ea != nil && ea.MaySubscribe(ctx, e.Topic) != nil {
				return
			}
			next(ectx, e)
		}
	}
	p, err := netron.ParseEventPattern(pattern)
	if err != nil {
		return nil, netron.NewError(netron.CodeInvalidArgument, err)
	}
	return l.events.add(p.Match, h, func() (func(), error) { return l.n.Subscribe(ctx, ">", l.events.dispatch) })
}

func (l *local) Peers(ctx context.Context) ([]PeerInfo, error) {
	if err := l.seesAll(ctx, "the list of peers"); err != nil {
		return nil, err
	}
	out := []PeerInfo{}
	for _, p := range l.n.Peers() {
		out = append(out, peerInfo(p))
	}
	slices.SortFunc(out, func(a, b PeerInfo) int {
		return cmp.Or(cmp.Compare(a.Transport, b.Transport), cmp.Compare(a.RemoteAddr, b.RemoteAddr), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (l *local) Metrics(ctx context.Context) (Glance, error) {
	if err := l.seesAll(ctx, "the metrics glance"); err != nil {
		return Glance{}, err
	}
	if l.gatherer == nil {
		return Glance{Reason: "the app has no metrics module"}, nil
	}
	fams, err := l.gatherer.Gather()
	if err != nil && len(fams) == 0 {
		return Glance{}, netron.Errorf(netron.CodeInternal, "gather the metrics: %v", err)
	}
	return glance(fams), nil
}

// seesAll returns nil when the caller in ctx may call every method of
// the app (always, without the security module), else the error saying
// that what shows the whole app is not for them. It runs for each event
// the event monitor sends, on the goroutine that emits it: it does not
// describe the services again (methodsOf notes their methods once).
func (l *local) seesAll(ctx context.Context, what string) error {
	if l.n.Access() == nil {
		return nil
	}
	for _, q := range l.n.Services() {
		visible := l.n.VisibleMethods(ctx, q)
		all := l.methodsOf(q)
		if len(visible) == len(all) {
			continue // visible is among all
		}
		if callerOf(ctx).token == "" {
			return netron.Errorf(netron.CodeUnauthenticated,
				"%s shows the whole app, and the app checks its callers: enter a token that may call every method", what)
		}
		for _, m := range all {
			if !slices.Contains(visible, m) {
				return netron.Errorf(netron.CodePermissionDenied,
					"%s shows the whole app: the token may not call %s.%s", what, q, m)
			}
		}
	}
	return nil
}

// methodsOf returns the names of the methods of the service with the
// qualified name q, in order. A service's methods are those it was
// registered with: they are described once.
func (l *local) methodsOf(q string) []string {
	l.mu.RLock()
	names, ok := l.methods[q]
	l.mu.RUnlock()
	if ok {
		return names
	}
	for _, d := range l.n.Describe() {
		if netron.QualifiedName(d.Name, d.Version) == q {
			for _, m := range d.Methods {
				names = append(names, m.Name)
			}
			break
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.methods == nil {
		l.methods = map[string][]string{}
	}
	l.methods[q] = names
	return names
}
