package netron

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/compress"
	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Netron is one process's RPC engine: it holds the local services, listens
// on transports, serves the peers that connect, and dials other processes.
// It is safe for concurrent use.
type Netron struct {
	id     string
	cfg    Config
	log    *slog.Logger
	limits protocol.Limits
	ports  transport.Ports // where its listeners share ports (ws:// and http:// on one address)
	// closeTimeout is the transport.Options.CloseTimeout of its listeners;
	// 0 (the transport's default) except in tests.
	closeTimeout time.Duration

	mu        sync.RWMutex
	services  map[string]*service   // by qualified name
	byDefID   map[string]*service   // by definition id
	byName    map[string][]*service // by name, highest version first
	tasks     map[string]TaskFunc
	listeners []*listener
	gateways  []Gateway
	peers     map[*Peer]struct{}
	auth      Authenticator

	interceptors []Interceptor
	transports   map[string]transport.Transport // the Netron's own, by scheme (WithCustomTransports)
	unary        UnaryFunc                      // serving chain of unary calls
	streaming    StreamingHandlerFunc           // serving chain of streams
	clientChain  UnaryFunc                      // calling chain of unary calls
	poolCalls    bool                           // every interceptor borrows its Calls: they are pooled (see servedCalls)
	identity     IdentityFunc
	access       Access
	values       map[any]any // WithValue
	parentLost   func()      // called when the ipc connection to the parent ends
	strict       bool        // WithStrict: methods not exposed fail Register
	serverTLS    *tls.Config
	clientTLS    *tls.Config
	events       *eventBus

	// budget bounds the bytes queued for writing on all its connections
	// (Config.MaxQueuedBytes); senders over it wait for room.
	budget *session.Budget
	// codec compresses and decodes the envelopes of the Go-to-Go
	// extension; zalg is what this side sends with (Config.Compression).
	codec *compress.Codec
	// hub holds the connections the pools share.
	hub hub
	// ended is the traffic of the connections that ended (Traffic).
	ended   traffic
	zalg    compress.Algorithm
	sweeper *session.Sweeper // fails calls whose request timeout passed
	targets targetCache      // targets parsed for calls (naming.go)

	draining atomic.Bool
	inflight sync.WaitGroup
	stopped  chan struct{}
	workers  workers // the goroutines that serve calls (workers.go)
	stopOnce sync.Once
	wg       sync.WaitGroup // accept loops and peer goroutines

	// runningTasks holds the tasks whose function runs, for Stop's report
	// (calls are found on their connections: runningCalls).
	taskMu       sync.Mutex
	runningTasks map[*runningTask]struct{}
	// authWG counts the accepted connections whose token is being
	// checked, authenticating those whose Authenticator has not returned
	// (Stop's report): application code, which Stop waits for only until
	// its context ends.
	authWG         sync.WaitGroup
	authenticating atomic.Int64
}

// Option configures a [Netron] at construction. Every Option is also a
// [ClientOption]: given to [Dial], it configures the Netron that Dial
// makes for its peer. A pool and the HTTP client call from a Netron made
// elsewhere (or from none) and refuse Netron options, except
// [WithInterceptors] (a pool's interceptors) and [WithTLS] (whose client
// side the HTTP client takes).
type Option interface {
	ClientOption
	applyNetron(*Netron)
}

type netronOption struct {
	desc string
	fn   func(*Netron)
}

func (o netronOption) applyNetron(n *Netron) { o.fn(n) }
func (o netronOption) String() string        { return o.desc }

func (o netronOption) applyClient(c *clientConfig) {
	c.netron = append(c.netron, o)
	c.only(o.desc, forDial, `it is an option of a Netron: give it to netron.New for a pool (the Netron it calls from), or call through netron.Dial, which makes a Netron of its own (netron.Dial(ctx, "http://…", …) for HTTP)`)
}

// clientNetronOption is a Netron option that means something of its own
// to the clients that do not make a Netron.
type clientNetronOption struct {
	netronOption
	client func(*clientConfig)
}

func (o clientNetronOption) applyClient(c *clientConfig) { o.client(c) }

// WithValue records a value of a package above the engine on the Netron,
// under key (a type of that package, as with context.WithValue), for that
// package to read back from the Engine it is given ([Netron.Value]): how
// modules give a gateway what to serve without the engine knowing it (the
// HTTP gateway's mounts, modules/netron/http.WithMounts). update receives
// the value recorded so far under key (nil at first) and returns the new
// one, so that several options may add to one value.
func WithValue(key any, update func(old any) any) Option {
	return netronOption{fmt.Sprintf("Value(%T)", key), func(n *Netron) {
		if n.values == nil {
			n.values = map[any]any{}
		}
		n.values[key] = update(n.values[key])
	}}
}

// Value returns what [WithValue] recorded under key, or nil.
func (n *Netron) Value(key any) any { return n.values[key] }

// WithInterceptors adds interceptors to every call the Netron serves and
// makes; the first is the outermost. Validation and caching run inside
// them, next to the method.
//
// As a [ClientOption] they wrap the calls of the client: on a [Dial] peer
// the calls it makes (they are its Netron's), in a pool each call around
// the choice of its instance (see [Netron.NewPool]).
func WithInterceptors(ics ...Interceptor) Option {
	ics = slices.Clone(ics)
	desc := fmt.Sprintf("Interceptors(%d)", len(ics))
	return clientNetronOption{netronOption{desc, func(n *Netron) {
		n.interceptors = append(n.interceptors, ics...)
	}}, func(c *clientConfig) {
		c.only(desc, forDial|forPool, `http.NewClient calls without interceptors: use netron.Dial(ctx, "http://…")`)
		c.chain = append(c.chain, func(ClientInfo) []Interceptor { return ics })
	}}
}

// IdentityFunc returns the identity of the caller of a call being served,
// for what must differ per caller, such as the key of a response cache
// ([Call.Identity]). The security module sets it; without it every caller
// is the same.
type IdentityFunc func(ctx context.Context) string

// WithIdentity sets how the caller of a served call is identified where
// results must not be shared between callers (the response cache key).
func WithIdentity(f IdentityFunc) Option {
	return netronOption{"Identity(…)", func(n *Netron) { n.identity = f }}
}

// WithTLS sets the TLS configurations for the secure schemes (tls://,
// wss://, https://): server for listening (it must hold a certificate),
// client for dialling (nil: the system roots). Plain schemes never use TLS.
//
// As a [ClientOption], Dial's Netron takes it, and the HTTP client
// (http.NewClient) takes client for https://.
func WithTLS(server, client *tls.Config) Option {
	o := netronOption{"TLS(…)", func(n *Netron) { n.serverTLS, n.clientTLS = server, client }}
	return clientNetronOption{o, func(c *clientConfig) {
		c.netron = append(c.netron, o)
		c.tls = client
		c.only(o.desc, forDial|forCalls, "a pool dials with the TLS of its Netron: give WithTLS to netron.New")
	}}
}

// tlsFor returns the TLS configuration for a listener (server) or a dial
// of scheme: the Netron's for a scheme that its transport says is TLS by
// definition (transport.Securer: tls, wss), none for the others. Gateways
// (https) take theirs from [Netron.TLS].
func (n *Netron) tlsFor(scheme string, server bool) *tls.Config {
	if !n.isSecure(scheme) {
		return nil
	}
	if server {
		return n.serverTLS
	}
	if n.clientTLS == nil {
		return &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return n.clientTLS
}

// TLS returns the server TLS configuration set with WithTLS, for gateways.
func (n *Netron) TLS() *tls.Config { return n.serverTLS }

// WithParentLost sets what happens when a child started by SpawnIPC loses
// its connection to the parent; the titan app stops itself.
func WithParentLost(f func()) Option {
	return netronOption{"ParentLost(…)", func(n *Netron) { n.parentLost = f }}
}

// withEventBus makes the Netron use b, an app's bus made before it (see
// newAppEvents).
func withEventBus(b *eventBus) Option {
	return netronOption{"EventBus(…)", func(n *Netron) { n.events = b }}
}

// New returns a Netron with cfg (zero fields take [DefaultConfig]'s
// values). log may be nil. Nothing listens until [Netron.Listen].
func New(cfg Config, log *slog.Logger, opts ...Option) (*Netron, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Netron{
		id:       cfg.ID,
		cfg:      cfg,
		log:      log,
		limits:   protocol.Limits{MaxFrameSize: cfg.MaxFrameSize, MaxDepth: cfg.MaxDepth},
		services: map[string]*service{},
		byDefID:  map[string]*service{},
		byName:   map[string][]*service{},
		tasks:    map[string]TaskFunc{},
		peers:    map[*Peer]struct{}{},
		stopped:  make(chan struct{}),
	}
	if n.id == "" {
		n.id = newDefinitionID()
	}
	n.budget = session.NewBudget(int64(n.cfg.MaxQueuedBytes))
	n.codec = compress.NewCodec(n.cfg.MaxFrameSize)
	n.hub.n = n
	n.zalg, _ = compress.Parse(n.cfg.Compression.Algorithm) // checked by withDefaults
	n.sweeper = session.NewSweeper(func(timeout time.Duration) error {
		return NewError(CodeDeadlineExceeded, fmt.Errorf("no answer within %v", timeout))
	})
	for _, o := range opts {
		o.applyNetron(n)
	}
	n.unary = recoverUnary(n.log, chainUnary(n.interceptors, invokeUnary))
	n.streaming = recoverStreaming(n.log, chainStreamingHandler(n.log, n.interceptors, invokeStream))
	n.clientChain = chainUnary(n.interceptors, sendUnary)
	n.poolCalls = borrowsAll(n.interceptors)
	if n.events == nil {
		n.events = newEventBus(log)
	}
	n.registerCoreTasks()
	return n, nil
}

// ID returns the process's Netron id, sent to peers in the handshake.
func (n *Netron) ID() string { return n.id }

// Config returns the configuration in force.
func (n *Netron) Config() Config { return n.cfg }

// Register exposes impl as the service name@version. The public methods
// are impl's exported methods whose first argument is a context.Context and
// that return (T, error), error, or iter.Seq2[T, error]. An exported method
// that looks meant to be public but has another shape (no context first
// but an error result, other results, variadic arguments) is not exposed:
// Register logs one warning for the service listing each with the reason,
// or fails under [WithStrict]. Methods that return no error (String() string)
// and the methods of well-known interfaces of the standard library
// (Close() error, MarshalJSON, Scan, Write, ...) are helpers and are not
// reported. A context.Context after the first argument is always an error.
// Registering a qualified name twice is an error.
func (n *Netron) Register(name, version string, impl any, opts ...ServiceOption) error {
	s, err := newService(name, version, impl, opts...)
	if err != nil {
		return err
	}
	if err := n.checkTransports(s); err != nil {
		return err
	}
	if len(s.notExposed) > 0 {
		if n.strict {
			return notExposedError(s.qualified, s.notExposed)
		}
		n.log.Warn("exported methods are not exposed", "service", s.qualified,
			"methods", strings.Join(s.notExposed, "; "), "accepted", acceptedShapes)
	}
	gws, err := n.add(s)
	if err != nil {
		return err
	}
	n.log.Debug("service registered", "service", s.qualified, "methods", s.order)
	n.tellWatchers(gws, s.describe())
	return nil
}

// add puts s in the service tables and returns the gateways to tell.
func (n *Netron) add(s *service) ([]Gateway, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.services[s.qualified]; dup {
		return nil, fmt.Errorf("netron: service %s registered twice", s.qualified)
	}
	for _, l := range n.listeners {
		if err := s.fits(l.scheme, l.caps); err != nil {
			return nil, err
		}
	}
	n.services[s.qualified] = s
	n.byDefID[s.defID] = s
	list := append(n.byName[s.name], s)
	sort.SliceStable(list, func(i, j int) bool { return newerVersion(list[i].version, list[j].version) })
	n.byName[s.name] = list
	return slices.Clone(n.gateways), nil
}

// Services returns the qualified names of the local services, sorted.
func (n *Netron) Services() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return sortedServiceNames(n.services)
}

func sortedServiceNames(m map[string]*service) []string {
	out := make([]string, 0, len(m))
	for q := range m {
		out = append(out, q)
	}
	sort.Strings(out)
	return out
}

// findService resolves a CALL's first element (NETRON-WIRE.md §5.2): a
// definition id, or an exact qualified name.
func (n *Netron) findService(defID string) (*service, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if looksLikeUUID(defID) {
		if s := n.byDefID[strings.ToLower(defID)]; s != nil {
			return s, nil
		}
		return nil, notFound("Definition", defID, "Definition with id "+defID+" not found")
	}
	if s := n.services[defID]; s != nil {
		return s, nil
	}
	return nil, notFound("Service", defID, "Service with id "+clip(defID)+" not found")
}

// resolveTarget finds the service for query_interface: an exact name, the
// highest version matching a range, or the highest version of a bare name.
func (n *Netron) resolveTarget(target string) (*service, error) {
	n.mu.RLock()
	s := n.services[target] // an exact, canonical target: no parsing
	n.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	t, err := ParseTarget(target)
	if err != nil {
		return nil, NewError(CodeInvalidArgument, err)
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if t.Exact() {
		if s := n.services[t.String()]; s != nil {
			return s, nil
		}
	} else {
		for _, s := range n.byName[t.Name] {
			if t.Matches(s.version) {
				return s, nil
			}
		}
	}
	return nil, errNoService(target)
}

// errNoService is the original's error of a query_interface that finds no
// service (NETRON-WIRE.md §5.6), the target clipped.
func errNoService(target string) *Error {
	return Errorf(CodeNotFound, "Service '%s' not found", clip(target)).
		WithDetails(protocol.Object{{Key: "serviceName", Value: clip(target)}})
}

// notFound is an error of the original's catalogue (NETRON-WIRE.md §5.6):
// msg, with details {resource, id}, the id clipped.
func notFound(resource, id, msg string) *Error {
	return NewError(CodeNotFound, errors.New(msg)).
		WithDetails(protocol.Object{{Key: "resource", Value: resource}, {Key: "id", Value: clip(id)}})
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// listener is one address the Netron serves.
type listener struct {
	l      transport.Listener
	scheme string
	caps   transport.Capabilities
	parent bool // an inherited address (transport.Inheritor): its connection is the parent
}

// Listen starts serving on addr (a URL such as tcp://127.0.0.1:0) and
// returns the bound address. Connections are served until [Netron.Stop].
func (n *Netron) Listen(ctx context.Context, addr string) (string, error) {
	if n.draining.Load() {
		return "", errors.New("netron: Listen after Stop")
	}
	tr, scheme, err := n.transportFor(addr)
	if err != nil {
		return "", err
	}
	if g, ok := tr.(GatewayOpener); ok {
		return n.listenGateway(ctx, addr, g)
	}
	if err := n.checkCapabilities(scheme, tr.Capabilities()); err != nil {
		return "", err
	}
	// Asked before listening: a transport may forget what it inherited
	// once it holds it (ipc clears its environment variable).
	parent := slices.Contains(transport.Inherited(), addr)
	o := n.ListenOptions(scheme)
	u, err := openURL(addr, o)
	var l transport.Listener
	if err == nil {
		l, err = tr.Listen(ctx, u, o)
	}
	if err != nil {
		return "", fmt.Errorf("netron: listen %s: %w", shownAddr(addr), err)
	}
	ln := &listener{l: l, scheme: scheme, caps: tr.Capabilities(), parent: parent}
	n.mu.Lock()
	if n.draining.Load() { // Stop ran meanwhile: it will not close this one
		n.mu.Unlock()
		l.Close()
		return "", errors.New("netron: Listen after Stop")
	}
	n.listeners = append(n.listeners, ln)
	n.wg.Add(1)
	n.mu.Unlock()
	go n.acceptLoop(ln)
	n.log.Info("listening", "addr", l.Addr())
	return l.Addr(), nil
}

// listenGateway starts the gateway f on addr.
func (n *Netron) listenGateway(ctx context.Context, addr string, f GatewayOpener) (string, error) {
	scheme, _, _ := strings.Cut(addr, ":")
	u, err := url.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("netron: address %q: %w", shownAddr(addr), unquotedURL(err))
	}
	g, err := f.OpenGateway(ctx, n, u)
	if err != nil {
		return "", fmt.Errorf("netron: listen %s: %w", shownAddr(addr), err)
	}
	if c, ok := g.(interface{ Capabilities() transport.Capabilities }); ok {
		if err := n.checkCapabilities(strings.ToLower(scheme), c.Capabilities()); err != nil {
			_ = g.Shutdown(ctx)
			return "", err
		}
	}
	n.mu.Lock()
	if n.draining.Load() {
		n.mu.Unlock()
		_ = g.Shutdown(ctx)
		return "", errors.New("netron: Listen after Stop")
	}
	n.gateways = append(n.gateways, g)
	n.mu.Unlock()
	// Services registered while the gateway started are not in
	// the set it began with.
	n.tellWatchers([]Gateway{g}, n.Describe()...)
	n.log.Info("listening", "addr", g.Addr())
	return g.Addr(), nil
}

// checkListenAddr reports whether [Netron.Listen] can serve addr: its
// scheme is a transport's (tcp, ws, ...) or a gateway's (http, https,
// nats), and a port it names is one. The error of an unknown scheme lists
// the known ones.
func (n *Netron) checkListenAddr(addr string) error {
	if _, _, err := n.transportFor(addr); err != nil {
		return err
	}
	if u, err := url.Parse(addr); err == nil && u.Host != "" {
		if p := u.Port(); p != "" {
			if v, err := strconv.ParseUint(p, 10, 16); err != nil || v > 65535 {
				return fmt.Errorf("netron: address %q: port %s is not a number from 0 to 65535", addr, p)
			}
		}
	}
	return nil
}

// transportFor returns what serves addr's scheme, from the one table of
// schemes: the Netron's own (WithCustomTransports, WithGateway) over the
// process's (transport.Register, RegisterGateway). A gateway's entry is a
// GatewayOpener. The error of an unknown scheme lists the known ones.
func (n *Netron) transportFor(addr string) (transport.Transport, string, error) {
	scheme, _, ok := strings.Cut(addr, ":")
	if !ok {
		return nil, "", fmt.Errorf("netron: address %q: want a URL such as tcp://127.0.0.1:7070", shownAddr(addr))
	}
	scheme = strings.ToLower(scheme)
	if tr := n.transports[scheme]; tr != nil {
		return tr, scheme, nil
	}
	tr, err := transport.Lookup(scheme)
	if err != nil {
		if pkg := servedBy[scheme]; pkg != "" {
			return nil, "", fmt.Errorf("netron: address %q: %w %q: it is served by %s, which this program does not link; add import _ %q", shownAddr(addr), transport.ErrUnknownScheme, scheme, pkg, pkg)
		}
		if known := n.transportSchemes(); len(known) > 0 {
			err = fmt.Errorf("%w %q (known: %s)", transport.ErrUnknownScheme, scheme, strings.Join(known, ", "))
		}
		return nil, "", fmt.Errorf("netron: address %q: %w", shownAddr(addr), err)
	}
	return tr, scheme, nil
}

// checkTransports reports a transport named by the service's Transports
// option that the Netron does not know: the service would be on no
// listener of it.
func (n *Netron) checkTransports(s *service) error {
	known := n.transportSchemes()
	for _, t := range s.transports {
		if slices.Contains(known, t) {
			continue
		}
		if pkg := servedBy[t]; pkg != "" {
			return fmt.Errorf("netron: service %s: %s: transport %q is served by %s, which this program does not link; add import _ %q", s.qualified, s.namedBy[t], t, pkg, pkg)
		}
		return fmt.Errorf("netron: service %s: %s: unknown transport %q (known: %s)", s.qualified, s.namedBy[t], t, strings.Join(known, ", "))
	}
	return nil
}

// servedBy names the package of each scheme that Titan serves but that
// the engine does not link itself: an app imports the package for the
// scheme (the root package titan links http; nats, with its dependencies,
// only when an app asks for it).
var servedBy = map[string]string{
	"http":  "github.com/titanframework/titan/modules/netron/http",
	"https": "github.com/titanframework/titan/modules/netron/http",
	"nats":  "github.com/titanframework/titan/modules/netron/nats",
}

// transportSchemes returns the schemes the Netron knows: its own
// (WithCustomTransports, WithGateway) and the process's (transport.Register,
// RegisterGateway), sorted.
func (n *Netron) transportSchemes() []string {
	out := transport.Schemes()
	for s := range n.transports {
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// openURL parses addr for tr, with o checked.
func openURL(addr string, o transport.Options) (*url.URL, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	u, err := url.Parse(addr)
	if err != nil {
		return nil, unquotedURL(err) // the caller names the address
	}
	return u, nil
}

// isSecure reports whether scheme is TLS by definition, as its transport
// says (transport.Securer).
func (n *Netron) isSecure(scheme string) bool {
	scheme = strings.ToLower(scheme)
	tr := n.transports[scheme]
	if tr == nil {
		return transport.IsSecure(scheme)
	}
	s, ok := tr.(transport.Securer)
	return ok && s.SecureScheme(scheme)
}

// WithCustomTransports gives the Netron transports of its own, beside those
// registered for the process (transport.Register); one whose scheme is
// registered takes its place for this Netron. An app provides them into
// the fx group titan.netron.transports with transport.AsTransport.
func WithCustomTransports(ts ...transport.Transport) Option {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name()
	}
	return netronOption{fmt.Sprintf("CustomTransports(%s)", strings.Join(names, ", ")), func(n *Netron) {
		for _, t := range ts {
			n.addTransport(t)
		}
	}}
}

// addTransport puts t in the Netron's own table of schemes.
func (n *Netron) addTransport(t transport.Transport) {
	if n.transports == nil {
		n.transports = map[string]transport.Transport{}
	}
	for _, s := range t.Schemes() {
		n.transports[strings.ToLower(s)] = t
	}
}

// Addrs returns the addresses the Netron listens on.
func (n *Netron) Addrs() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.listeners)+len(n.gateways))
	for _, l := range n.listeners {
		out = append(out, l.l.Addr())
	}
	for _, g := range n.gateways {
		out = append(out, g.Addr())
	}
	return out
}

func (n *Netron) acceptLoop(ln *listener) {
	defer n.wg.Done()
	for {
		conn, err := ln.l.Accept(context.Background())
		if err != nil {
			if errors.Is(err, net.ErrClosed) || n.draining.Load() {
				return
			}
			n.log.Warn("accept failed", "addr", ln.l.Addr(), "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p := newPeer(n, conn, ln.scheme, false)
		var token string
		if cr, ok := conn.(transport.Credentials); ok && n.Authenticator() != nil {
			token = cr.Token()
		}
		if !n.addPeer(p, token != "") {
			conn.Close()
			return
		}
		if w, ok := n.access.(PeerWatcher); ok {
			w.PeerAccepted(p)
		}
		if token != "" {
			// A token on the connection (WebSocket ?token= or Authorization,
			// NETRON-WIRE.md §4.4): authenticate before serving anything.
			// The authenticator's context ends with the connection (Stop
			// closes it); Stop waits for it only until its own ends.
			go func() {
				defer n.authWG.Done()
				err := p.authenticate(token)
				n.authenticating.Add(-1)
				if err != nil {
					p.log.Warn("connection refused: authentication failed", "error", err)
					n.removePeer(p)
					close(p.done)
					rejectConn(conn, err)
					return
				}
				if !n.startAuthenticated(p) {
					n.removePeer(p)
					close(p.done)
					p.cur.Load().close(errDraining)
					return
				}
				p.sendID()
			}()
			continue
		}
		p.start()
		p.sendID()
		if ln.parent && n.parentLost != nil {
			go func() {
				<-p.Done()
				if !n.draining.Load() {
					n.parentLost()
				}
			}()
		}
	}
}

// startAuthenticated starts serving an accepted peer whose token the
// authenticator accepted, or reports false once the Netron is stopping:
// under n.mu, which Stop holds while it sets draining, so no peer
// goroutine starts after Stop waits for them.
func (n *Netron) startAuthenticated(p *Peer) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.draining.Load() {
		return false
	}
	p.start()
	return true
}

// rejectConn closes a connection whose token the authenticator refused, telling the peer why
// where the transport can (WebSocket: close 4001 with the reason, NETRON-WIRE.md §4.4).
func rejectConn(conn transport.Conn, err error) {
	r, ok := conn.(transport.Rejecter)
	if !ok {
		conn.Close()
		return
	}
	reason := err.Error()
	if e, ok := errors.AsType[*Error](err); ok {
		reason = e.Message()
	}
	_ = r.Reject(reason)
}

// addPeer records a peer, or reports false once the Netron is draining.
// A peer whose token is to be authenticated first is counted among those
// Stop waits for (authWG), under the lock Stop sets draining with.
func (n *Netron) addPeer(p *Peer, authenticating bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.draining.Load() {
		return false
	}
	n.peers[p] = struct{}{}
	if authenticating {
		n.authWG.Add(1)
		n.authenticating.Add(1)
	}
	return true
}

func (n *Netron) removePeer(p *Peer) {
	n.mu.Lock()
	delete(n.peers, p)
	n.mu.Unlock()
	n.events.dropPeer(p)
}

// Peers returns the peers connected now (accepted and dialled).
func (n *Netron) Peers() []*Peer {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Peer, 0, len(n.peers))
	for p := range n.peers {
		out = append(out, p)
	}
	return out
}

// beginCall counts a request in flight, or reports false once the Netron
// is draining. The check and the count happen under n.mu, which Stop holds
// while it sets draining, so no call is counted after Stop starts waiting.
func (n *Netron) beginCall() bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.draining.Load() {
		return false
	}
	n.inflight.Add(1)
	return true
}

// Stop drains the Netron: it stops listening, refuses new calls with
// unavailable, waits for the calls in flight until ctx ends, then closes
// every connection once what is queued on it is written (the answers,
// the events emitted) and the peer has answered the events (at most a
// RequestTimeout). It is safe to call more than once.
func (n *Netron) Stop(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		n.mu.Lock()
		n.draining.Store(true)
		ls := slices.Clone(n.listeners)
		gws := slices.Clone(n.gateways)
		n.mu.Unlock()
		for _, l := range ls {
			l.l.Close()
		}
		for _, g := range gws {
			if gerr := g.Shutdown(ctx); gerr != nil {
				err = errors.Join(err, fmt.Errorf("netron: stop %s: %w", g.Addr(), gerr))
			}
		}
		if calls, tasks := n.runningCalls(), n.tasksRunning(); len(calls)+len(tasks) > 0 {
			n.log.Info("stopping: waiting for the calls in flight", "calls", len(calls), "tasks", len(tasks))
		}
		done := make(chan struct{})
		go func() { n.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			calls, tasks := n.runningCalls(), n.tasksRunning()
			n.log.Warn("stop timeout overrun: calls still running", "calls", calls, "tasks", tasks)
			what := fmt.Sprintf("%d calls", len(calls))
			switch {
			case len(tasks) > 0 && len(calls) > 0:
				what += fmt.Sprintf(" and %d tasks", len(tasks))
			case len(tasks) > 0:
				what = fmt.Sprintf("%d tasks", len(tasks))
			}
			running := append(calls, tasks...)
			err = errors.Join(err, fmt.Errorf("netron: stop: %s still running (%s): %w",
				what, strings.Join(running[:min(len(running), 10)], ", "), ctx.Err()))
		}
		close(n.stopped)
		n.stopWorkers()
		// The answers of the calls that finished are written before their
		// connections close.
		peers := n.Peers()
		for _, p := range peers {
			if c := p.cur.Load(); c != nil {
				c.flush(ctx)
			}
		}
		// And the events sent are answered, at most a RequestTimeout for a
		// peer that does not answer them (see conn.eventsAnswered).
		actx, acancel := context.WithTimeout(ctx, n.cfg.RequestTimeout)
		for _, p := range peers {
			if c := p.cur.Load(); c != nil {
				c.eventsAnswered(actx)
			}
		}
		acancel()
		for _, p := range peers {
			p.Close() // ends the context of an authenticator still running
		}
		authDone := make(chan struct{})
		go func() { n.authWG.Wait(); close(authDone) }()
		select {
		case <-authDone:
		case <-ctx.Done():
			if k := n.authenticating.Load(); k > 0 {
				n.log.Warn("stop timeout overrun: the Authenticator has not returned", "connections", k)
				err = errors.Join(err, fmt.Errorf("netron: stop: %d connections still authenticating their token (the Authenticator has not returned): %w", k, ctx.Err()))
			}
		}
		n.wg.Wait()
	})
	return err
}

// runningCalls lists the calls being served, as "service.method from
// peer", sorted.
func (n *Netron) runningCalls() []string {
	var running []string
	for _, p := range n.Peers() {
		c := p.cur.Load()
		if c == nil {
			continue
		}
		c.served.Each(func(cc *callCtx) {
			if call := cc.call; call != nil {
				running = append(running, call.Service+"."+call.Method+" from "+c.t.RemoteAddr())
			}
		})
	}
	slices.Sort(running)
	return running
}

// runningTask is a task whose function runs, as Stop names it.
type runningTask struct{ name, from string }

// taskStarted records that the task name of the peer at from runs, until
// the function it returns is called.
func (n *Netron) taskStarted(name, from string) (ended func()) {
	t := &runningTask{name, from}
	n.taskMu.Lock()
	if n.runningTasks == nil {
		n.runningTasks = map[*runningTask]struct{}{}
	}
	n.runningTasks[t] = struct{}{}
	n.taskMu.Unlock()
	return func() {
		n.taskMu.Lock()
		delete(n.runningTasks, t)
		n.taskMu.Unlock()
	}
}

// tasksRunning lists the tasks whose function runs, as "task name from
// peer", sorted.
func (n *Netron) tasksRunning() []string {
	n.taskMu.Lock()
	defer n.taskMu.Unlock()
	running := make([]string, 0, len(n.runningTasks))
	for t := range n.runningTasks {
		running = append(running, "task "+t.name+" from "+t.from)
	}
	slices.Sort(running)
	return running
}

// checkCapabilities refuses a listener whose transport lacks what a
// service exposed on it needs: stream methods need streaming.
func (n *Netron) checkCapabilities(scheme string, caps transport.Capabilities) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, q := range sortedServiceNames(n.services) {
		s := n.services[q]
		if err := s.fits(scheme, caps); err != nil {
			return err
		}
	}
	return nil
}

// fits reports whether the service can be served by a transport with caps.
func (s *service) fits(scheme string, caps transport.Capabilities) error {
	if !s.exposedOn(scheme) || caps.Streaming {
		return nil
	}
	for _, name := range s.order {
		if s.methods[name].kind == kindStream {
			return fmt.Errorf("netron: service %s cannot be served on %s: its method %s streams and the %s transport does not (restrict the service with titan.Transports)",
				s.qualified, scheme, name, scheme)
		}
	}
	return nil
}
