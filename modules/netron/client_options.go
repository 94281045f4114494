package netron

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"time"

	"golang.org/x/net/http/httpguts"
)

// ClientOption configures a client of remote services: a peer of [Dial],
// a [Pool] of [Netron.NewPool] (titan.Remote is one), and the HTTP client
// of modules/netron/http (NewClient). It is the one option type of the
// client scope: titan.At is [WithAddress], the call policies of titan
// (titan.Retry, titan.Timeout, ...) are ClientOptions, and every Netron
// [Option] is one too — given to Dial, it configures the Netron that Dial
// makes for its peer. Each client takes the options that mean something
// for it and refuses the others with an error that names the option and
// says where it goes.
type ClientOption interface {
	applyClient(*clientConfig)
	// String describes the option as the call that made it, without its
	// package: At("tcp://127.0.0.1:7070").
	String() string
}

// clientKind is a set of the clients that take an option.
type clientKind uint8

const (
	forDial  clientKind = 1 << iota // Dial: a peer with a Netron of its own
	forPool                         // Netron.NewPool, titan.Remote
	forCalls                        // a CallConn made without a Netron (http.NewClient)
)

// clientConfig is what the client options fill in.
type clientConfig struct {
	addr     string        // WithAddress
	balancer string        // WithBalancer
	connWait time.Duration // WithConnectWait; 0: the default
	log      *slog.Logger  // WithLogger
	netron   []Option      // Netron options, for the Netron of Dial
	chain    []func(ClientInfo) []Interceptor
	metadata map[string]string // sent with every call (WithBearerToken)
	tls      *tls.Config       // WithTLS's client side, for a CallConn made without a Netron
	values   map[any]any       // WithDialValue
	// valueDescs are the WithDialValue options given, for errors.
	valueDescs []string
	limits     []clientLimit
	setBy      map[string]setting // the option that set each single setting
	errs       []error
}

// clientLimit records an option that only some clients take.
type clientLimit struct {
	desc  string
	takes clientKind
	why   string // what to do instead, for the clients that refuse it
}

type clientOption struct {
	desc string
	fn   func(*clientConfig)
}

func (o clientOption) applyClient(c *clientConfig) { o.fn(c) }
func (o clientOption) String() string              { return o.desc }

// only notes that the option desc is taken by the clients of takes only.
func (c *clientConfig) only(desc string, takes clientKind, why string) {
	c.limits = append(c.limits, clientLimit{desc, takes, why})
}

// clientName names a client kind in errors.
func clientName(k clientKind) string {
	switch k {
	case forDial:
		return "netron.Dial"
	case forPool:
		return "a pool (Netron.NewPool, titan.Remote)"
	default:
		return "a client without a Netron (http.NewClient)"
	}
}

// newClientConfig applies opts for a client of kind and returns every
// problem: bad values, and options that kind does not take.
func newClientConfig(kind clientKind, opts []ClientOption) (*clientConfig, error) {
	c := &clientConfig{}
	for _, o := range opts {
		if o == nil {
			c.errs = append(c.errs, errors.New("nil ClientOption"))
			continue
		}
		o.applyClient(c)
	}
	for _, l := range c.limits {
		if l.takes&kind == 0 {
			c.errs = append(c.errs, fmt.Errorf("%s: not an option of %s: %s", l.desc, clientName(kind), l.why))
		}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, errors.Join(c.errs...)
}

// interceptors builds the client's interceptors for info, in the order of
// the options (the first outermost).
func (c *clientConfig) interceptors(info ClientInfo) []Interceptor {
	var ics []Interceptor
	if len(c.metadata) > 0 {
		ics = append(ics, metadataInterceptor(maps.Clone(c.metadata)))
	}
	for _, build := range c.chain {
		ics = append(ics, build(info)...)
	}
	return ics
}

// CheckPoolOptions returns what [Netron.NewPool] would refuse in opts
// (bad values, options a pool does not take), without a Netron: for a
// package that takes the options of a pool it makes later, such as
// titan.Remote, which reports them when the app is built.
func CheckPoolOptions(opts ...ClientOption) error {
	_, err := newClientConfig(forPool, opts)
	return err
}

// WithAddress sets the address of the process serving a pool's service
// ("tcp://127.0.0.1:7070"), which is then not resolved: titan.At. Its
// String form is At("…"), the address's password masked. Dial and the HTTP client take their address as
// an argument and refuse it. Two WithAddress options with different
// addresses are refused.
func WithAddress(addr string) ClientOption {
	desc := fmt.Sprintf("At(%q)", shownAddr(addr)) // shown in errors: no password
	return clientOption{desc, func(c *clientConfig) {
		c.only(desc, forPool, "it takes its address as its argument")
		if u, err := url.Parse(addr); err != nil || u.Scheme == "" {
			c.errs = append(c.errs, fmt.Errorf("%s: want a URL such as tcp://127.0.0.1:7070", desc))
			return
		}
		if !claim(&c.setBy, &c.errs, "At", desc, addr, "a client has one address") {
			return
		}
		c.addr = addr
	}}
}

// WithBalancer sets how a pool spreads calls over the instances
// connected: [RoundRobin] (the default), [Random], [LeastPending] or
// [PowerOfTwo]. titan.Remote takes discovery.balancer from the
// configuration.
func WithBalancer(name string) ClientOption {
	desc := fmt.Sprintf("Balancer(%q)", name)
	return clientOption{desc, func(c *clientConfig) {
		c.only(desc, forPool, "it calls one address")
		switch name {
		case RoundRobin, Random, LeastPending, PowerOfTwo:
			c.balancer = name
		default:
			c.errs = append(c.errs, fmt.Errorf("%s: want %s, %s, %s or %s", desc, RoundRobin, Random, LeastPending, PowerOfTwo))
		}
	}}
}

// WithConnectWait bounds how long a call through a started pool waits
// for the pool's first instance to connect: right after [Pool.Start],
// while its resolver (a [WatchResolver], such as discovery's) has not
// found the service yet or the instances it found are being dialled, a
// call (unary, stream, [Pool.Check], the functions of [Pool.Bind]) waits
// until an instance connects, its context ends, or d passes, whichever
// comes first, instead of failing at once. Once the pool has had an
// instance, a call finding none connected fails at once, as does a call
// before Start or after Close. The default is the Netron's
// HandshakeTimeout (10s unless configured): what one dial without a
// deadline may take, connecting and the server's id message, so that a
// call gives the first dial its whole chance, and a call without a
// deadline does not wait for ever. d must be above zero; two
// WithConnectWait options with different durations are refused. Dial
// (connected when it returns) and the HTTP client refuse it.
func WithConnectWait(d time.Duration) ClientOption {
	desc := fmt.Sprintf("ConnectWait(%v)", d)
	return clientOption{desc, func(c *clientConfig) {
		c.only(desc, forPool, "it bounds the wait of a pool's calls for the pool's first instance; a call of this client is bounded by its context")
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("%s: want a duration above zero", desc))
			return
		}
		if !claim(&c.setBy, &c.errs, "ConnectWait", desc, d.String(), "a pool has one wait for its first instance") {
			return
		}
		c.connWait = d
	}}
}

// WithLogger gives a client a logger: what a pool notices (instances that
// cannot be reached, a resolver that fails), and the log of the Netron
// that Dial makes. Without it, that is discarded. Every client takes it.
func WithLogger(log *slog.Logger) ClientOption {
	return clientOption{"Logger(…)", func(c *clientConfig) { c.log = log }}
}

// WithBearerToken sends the credential token with every call of the
// client, as the metadata "authorization: Bearer <token>": the
// Authorization header over HTTP, the call header between Go peers;
// the security module reads it from either. Metadata of the call's
// context ([WithOutgoingMetadata]) that names authorization wins. The
// token is never printed (String, errors). Two WithBearerToken options
// with different tokens are refused.
func WithBearerToken(token string) ClientOption {
	const desc = "BearerToken(…)"
	return clientOption{desc, func(c *clientConfig) {
		if token == "" || !httpguts.ValidHeaderFieldValue("Bearer "+token) {
			c.errs = append(c.errs, fmt.Errorf("%s: want a non-empty token of printable characters (a valid header value); got %d bytes", desc, len(token)))
			return
		}
		if !claim(&c.setBy, &c.errs, "BearerToken", desc, token, "a client sends one token") {
			return
		}
		if c.metadata == nil {
			c.metadata = map[string]string{}
		}
		c.metadata["authorization"] = "Bearer " + token
	}}
}

// ClientInfo describes the client that a [WithClientInterceptors] option
// builds its interceptors for.
type ClientInfo struct {
	// Target is what the client calls: a pool's target ("users@^1"), or
	// the address that a Dial peer reaches.
	Target string
	// Idempotent reports whether a method of the service is marked
	// idempotent, as a pool learns it ([Pool.Idempotent]); nil when the
	// client does not know it (a Dial peer).
	Idempotent func(method string) bool
	// Log is the client's logger ([WithLogger]), never nil.
	Log *slog.Logger
}

// WithClientInterceptors adds the interceptors that build makes for each
// client the option is given to (a policy whose state is per client, such
// as a circuit breaker named after the target): on a Dial peer they wrap
// the calls it makes, in a pool they wrap each call around the choice of
// its instance (see [Netron.NewPool]). Interceptors given by several
// options run in the order of the options, the first outermost. desc is
// the option's String form, as the call that made it ("Retry()"); a
// non-nil err is what is wrong with the option's value: every client
// refuses the option with an error that starts with desc. The HTTP client
// (http.NewClient) calls without interceptors and refuses it.
func WithClientInterceptors(desc string, err error, build func(ClientInfo) []Interceptor) ClientOption {
	return clientOption{desc, func(c *clientConfig) {
		c.only(desc, forDial|forPool, `http.NewClient calls without interceptors: use netron.Dial(ctx, "http://…")`)
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("%s: %w", desc, err))
			return
		}
		if build == nil {
			c.errs = append(c.errs, fmt.Errorf("%s: no interceptors to build", desc))
			return
		}
		c.chain = append(c.chain, build)
	}}
}

// WithDialValue records a value of a package above the engine for the
// connection a client dials, under key (a type of that package, as with
// context.WithValue), for that package's [CallDialer] to read back with
// [CallDialOptions.Value]: how the HTTP client's own options (its
// *http.Client, headers, response size) reach it. update receives the
// value recorded so far under key (nil at first) and returns the new one,
// or an error that the client reports after desc, the option's String
// form. Dial takes it at an address whose scheme's entry is a CallDialer
// (http://, https://) and refuses it elsewhere; a pool shares its Netron's
// connections and refuses it.
func WithDialValue(desc string, key any, update func(old any) (any, error)) ClientOption {
	return clientOption{desc, func(c *clientConfig) {
		c.only(desc, forDial|forCalls, "a pool shares the connections of its Netron, which are dialled without it")
		v, err := update(c.values[key])
		if err != nil {
			c.errs = append(c.errs, fmt.Errorf("%s: %w", desc, err))
			return
		}
		if c.values == nil {
			c.values = map[any]any{}
		}
		c.values[key] = v
		c.valueDescs = append(c.valueDescs, desc)
	}}
}

// CallDialOptionsOf returns the options of a [CallConn] made from client
// options without a Netron (modules/netron/http's NewClient): the client
// TLS configuration of [WithTLS], the metadata of [WithBearerToken], the
// values of [WithDialValue]. Options that need a Netron or a pool are
// refused, each named.
func CallDialOptionsOf(opts ...ClientOption) (CallDialOptions, error) {
	c, err := newClientConfig(forCalls, opts)
	if err != nil {
		return CallDialOptions{}, err
	}
	return CallDialOptions{TLS: c.tls, Metadata: c.metadata, values: c.values}, nil
}

// metadataInterceptor sets md on the calls a client makes, where the
// call's own metadata does not name the key; calls it serves pass by.
type metadataInterceptor map[string]string

var _ CallBorrower = metadataInterceptor(nil)

func (metadataInterceptor) BorrowsCalls() {}

func (md metadataInterceptor) set(call *Call) {
	if !call.client {
		return
	}
	for k, v := range md {
		if _, ok := call.Metadata[k]; !ok {
			if call.Metadata == nil {
				call.Metadata = make(map[string]string, len(md))
			}
			call.Metadata[k] = v
		}
	}
}

func (md metadataInterceptor) WrapUnary(next UnaryFunc) UnaryFunc {
	return func(ctx context.Context, call *Call) (any, error) {
		md.set(call)
		return next(ctx, call)
	}
}

func (md metadataInterceptor) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return func(ctx context.Context, call *Call) (*Stream, error) {
		md.set(call)
		return next(ctx, call)
	}
}

func (metadataInterceptor) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return next
}
