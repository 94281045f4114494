package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
)

func init() { transport.Register(New()) }

// DefaultPingInterval is the keep-alive interval of accepted connections when the listen
// address has no ping parameter: 30 s.
const DefaultPingInterval = 30 * time.Second

// DefaultPingTimeout is how long an accepted connection waits for a pong when the listen
// address has no pingTimeout parameter: 5 s.
const DefaultPingTimeout = 5 * time.Second

// GoClientHeader is the header by which [Transport.Dial] tells a server that the client is a
// Go Netron client: the server then sends its first message at once instead of 10 ms after
// the upgrade (see the package documentation, "Listening").
const GoClientHeader = "Titan-Netron-Client"

// goClientValue is the value of GoClientHeader that Dial sends.
const goClientValue = "go"

// firstWriteDelay is how long after the upgrade an accepted connection holds its first
// message when the client is not known to be a Go client (NETRON-WIRE.md §4.2 step 3).
const firstWriteDelay = 10 * time.Millisecond

// Transport is the WebSocket transport. The zero value is ready to use and safe for concurrent
// use.
type Transport struct{}

// New returns the WebSocket transport; it suits fx.Provide(transport.AsTransport(ws.New)).
func New() *Transport { return &Transport{} }

// Name returns "ws".
func (*Transport) Name() string { return "ws" }

// Schemes returns ["ws", "wss"].
func (*Transport) Schemes() []string { return []string{"ws", "wss"} }

// SecureScheme reports whether scheme is TLS by definition: wss.
func (*Transport) SecureScheme(scheme string) bool { return scheme == "wss" }

// Capabilities reports a streaming, bidirectional, binary, reconnectable transport with 16 MiB
// frames by default.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// Listen mounts a WebSocket endpoint at u (see the package documentation for the address
// form and its query options) on the shared HTTP server of u's host:port, starting the server
// when none runs there.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	a, err := parseAddress(u, true)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := checkTLS(a.scheme, u, o, true); err != nil {
		return nil, err
	}
	cfg, err := parseListenQuery(u)
	if err != nil {
		return nil, err
	}
	srv, err := httpmux.Acquire(ctx, u.Host, o)
	if err != nil {
		return nil, fmt.Errorf("%s: listen %s: %w", a.scheme, a.display, err)
	}
	l := newListener(srv, a, cfg, o)
	// Upgrades are GET requests: mounting "GET <path>" leaves the other
	// methods of the path to the HTTP gateway on the same port.
	remove, err := srv.Handle("GET "+a.path, l)
	if err != nil {
		_ = srv.Release(ctx)
		return nil, fmt.Errorf("%s: listen %s: %w", a.scheme, a.display, err)
	}
	l.remove = remove
	return l, nil
}

// Dial performs the WebSocket handshake with u and returns the connection.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	a, err := parseAddress(u, false)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := checkTLS(a.scheme, u, o, false); err != nil {
		return nil, err
	}
	var (
		mu  sync.Mutex
		raw net.Conn
	)
	var d net.Dialer
	rt := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cc := newCorkConn(c)
			mu.Lock()
			raw = cc
			mu.Unlock()
			return cc, nil
		},
		TLSClientConfig:   http11TLS(o.TLS),
		DisableKeepAlives: true,
	}
	defer rt.CloseIdleConnections()
	target := *u
	target.Scheme = a.scheme
	target.Fragment, target.RawFragment = "", ""
	wc, _, err := websocket.Dial(ctx, target.String(), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: rt},
		HTTPHeader: http.Header{GoClientHeader: {goClientValue}},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: dial %s: %w", a.scheme, a.display, hideQuery(err, target.RawQuery))
	}
	mu.Lock()
	defer mu.Unlock()
	if raw == nil { // unreachable: a handshake needs a connection
		_ = wc.CloseNow()
		return nil, fmt.Errorf("%s: dial %s: no connection was made", a.scheme, a.display)
	}
	return newConn(wc, raw, connConfig{
		client:    true,
		limit:     o.FrameLimit(),
		closeWait: o.CloseTimeout,
		local:     hostURL(a.scheme, raw.LocalAddr().String()),
		remote:    a.display,
	}), nil
}

// address is a parsed ws:// or wss:// URL.
type address struct {
	scheme  string // "ws" or "wss"
	path    string // ServeMux path, "/" by default
	display string // scheme://host[path] without query: for Addr, errors and logs
}

// parseAddress checks that u is scheme://host:port[/path][?query]; dial addresses may omit the
// port (80 for ws, 443 for wss).
func parseAddress(u *url.URL, listen bool) (address, error) {
	if u == nil {
		return address{}, errors.New("ws: nil address")
	}
	scheme := strings.ToLower(u.Scheme)
	want := fmt.Sprintf("want %s://host:port[/path]", scheme)
	if scheme != "ws" && scheme != "wss" {
		return address{}, fmt.Errorf("ws: address %q: want ws://host:port[/path] or wss://host:port[/path]", noQuery(u))
	}
	if u.Opaque != "" || u.User != nil || u.Host == "" {
		return address{}, fmt.Errorf("%s: address %q: %s", scheme, noQuery(u), want)
	}
	if _, port, err := net.SplitHostPort(u.Host); listen && (err != nil || port == "") {
		return address{}, fmt.Errorf("%s: listen %q: %s with an explicit port", scheme, noQuery(u), want)
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	if !strings.HasPrefix(p, "/") || u.RawPath != "" || strings.ContainsFunc(p, func(r rune) bool {
		return r == '{' || r == '}' || r <= ' ' || r == 0x7f
	}) {
		return address{}, fmt.Errorf("%s: address %q: the path must start with '/' and hold no spaces, braces or escaped characters", scheme, noQuery(u))
	}
	a := address{scheme: scheme, path: p, display: hostURL(scheme, u.Host)}
	if p != "/" {
		a.display += p
	}
	return a, nil
}

// hostURL returns scheme://hostport with its '%' escaped, as the zone of an IPv6 address is
// in URLs (ws://[fe80::1%25eth0]:7080); the rest of hostport is left as it is.
func hostURL(scheme, hostport string) string {
	return scheme + "://" + strings.ReplaceAll(hostport, "%", "%25")
}

// checkTLS enforces that wss listeners have a TLS config and that ws never takes one.
func checkTLS(scheme string, u *url.URL, o transport.Options, listen bool) error {
	switch {
	case scheme == "ws" && o.TLS != nil:
		return fmt.Errorf("ws: address %q: Options.TLS is set; use wss:// for TLS", noQuery(u))
	case scheme == "wss" && o.TLS == nil && listen:
		return fmt.Errorf("wss: listen %q: Options.TLS is required (a config with a certificate)", noQuery(u))
	}
	return nil
}

// http11TLS returns a copy of cfg that offers only HTTP/1.1 in ALPN, as WebSocket upgrades
// need it; nil stays nil (the system roots).
func http11TLS(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	return cfg
}

// listenConfig holds the options of a listen address's query.
type listenConfig struct {
	origins     []string // OriginPatterns
	anyOrigin   bool     // origins=*
	pingEvery   time.Duration
	pingTimeout time.Duration
}

// parseListenQuery reads the listen options from u's query.
func parseListenQuery(u *url.URL) (listenConfig, error) {
	cfg := listenConfig{pingEvery: DefaultPingInterval, pingTimeout: DefaultPingTimeout}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return cfg, fmt.Errorf("%s: listen %q: bad query: %w", u.Scheme, u.Redacted(), err)
	}
	var errs []error
	for k, v := range q {
		switch k {
		case "origins", "ping", "pingTimeout":
			// One value is read: a second one would be dropped unnoticed.
			if len(v) > 1 {
				hint := ""
				if k == "origins" {
					hint = ", its patterns separated by commas"
				}
				errs = append(errs, fmt.Errorf("query parameter %q is given more than once; give it once%s", k, hint))
			}
		default:
			errs = append(errs, fmt.Errorf("unknown query parameter %q (known: origins, ping, pingTimeout)", k))
		}
	}
	if s := q.Get("origins"); s != "" {
		for _, p := range strings.Split(s, ",") {
			p = strings.TrimSpace(p)
			switch {
			case p == "*":
				cfg.anyOrigin = true
			case p == "":
				errs = append(errs, fmt.Errorf("origins=%q: empty pattern", s))
			default:
				if _, err := path.Match(p, ""); err != nil {
					errs = append(errs, fmt.Errorf("origins: pattern %q: %w", p, err))
				}
				cfg.origins = append(cfg.origins, p)
			}
		}
	}
	if s, ok := q["ping"]; ok {
		d, err := time.ParseDuration(s[0])
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("ping=%q: want a duration such as 30s, or 0 for no keep-alive", s[0]))
		}
		cfg.pingEvery = d
	}
	if s, ok := q["pingTimeout"]; ok {
		d, err := time.ParseDuration(s[0])
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("pingTimeout=%q: want a positive duration such as 5s", s[0]))
		}
		cfg.pingTimeout = d
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("%s: listen %q: %w", u.Scheme, u.Redacted(), err)
	}
	return cfg, nil
}

// noQuery returns u without its query and password, for error messages: a dial address may
// carry a token in its query.
func noQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.ForceQuery = "", false
	return c.Redacted()
}

// hideQuery returns err with the query of a dial address (which may carry a token) cut from
// its message: net/http names the request URL, query included, in the errors of a request
// that got no answer.
func hideQuery(err error, rawQuery string) error {
	if rawQuery == "" || !strings.Contains(err.Error(), "?"+rawQuery) {
		return err
	}
	return &hiddenQueryError{msg: strings.ReplaceAll(err.Error(), "?"+rawQuery, ""), err: err}
}

// hiddenQueryError is an error whose message hides the query of a dial address.
type hiddenQueryError struct {
	msg string
	err error
}

func (e *hiddenQueryError) Error() string { return e.msg }
func (e *hiddenQueryError) Unwrap() error { return e.err }

var _ transport.Transport = (*Transport)(nil)
