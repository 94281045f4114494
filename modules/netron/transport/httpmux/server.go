package httpmux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// registry holds the running servers of one scope ([transport.Ports]) by listen address: each
// server under its bound host:port and, unless the port was 0, under the host:port it was first
// acquired with.
type registry struct {
	sync.Mutex
	byAddr map[string]*server
}

// registryOf returns the registry of the scope ports (nil: the process's).
func registryOf(ports *transport.Ports) *registry {
	return ports.Value("httpmux", func() any { return &registry{byAddr: map[string]*server{}} }).(*registry)
}

// server is one shared HTTP server; [Server] values are handles on it.
type server struct {
	addr   string      // bound host:port
	reg    *registry   // the registry it is in
	keys   []string    // its keys in reg.byAddr
	tlsCfg *tls.Config // the caller's config; nil for plain HTTP
	limits transport.Limits
	ln     net.Listener
	http   *http.Server
	served chan struct{} // closed when Serve has returned
	refs   int           // live handles; guarded by registry

	conns   *limit.Conns
	counted sync.Map // net.Conn -> netip.Addr: the connections conns counts
	taken   sync.Map // net.Conn -> *Count: connections whose count goes to a hijacker
	fresh   sync.Map // net.Conn -> struct{}: connections that have not begun a request yet

	mu     sync.Mutex // guards routes and nextID; mux is replaced under it
	routes []route
	nextID uint64
	mux    atomic.Pointer[http.ServeMux]
}

type route struct {
	id      uint64
	pattern string
	h       http.Handler
}

// Server is one user's handle on the HTTP server shared by every user of a listen address. It
// is returned by [Acquire] and released with [Server.Release]. Its methods are safe for
// concurrent use.
type Server struct {
	s *server

	mu       sync.Mutex
	released bool
	routes   map[uint64]struct{} // routes mounted through this handle and not yet removed
}

// Acquire returns a handle on the HTTP server listening on hostport, starting one when none
// runs there in the scope o.Ports ([transport.Ports]; nil is the process's: a Netron passes
// its own, so servers are shared among its listeners only). hostport is host:port as for [net.Listen]; port 0 always starts a new server on
// a free port, whose bound address [Server.Addr] reports, and a later Acquire with that bound
// address finds the same server. Servers are found by the exact hostport string they were
// first acquired with or by their bound address; other spellings of the same address
// ("localhost" for "127.0.0.1") try to bind again and fail as the port is taken.
//
// o.TLS, when not nil, serves HTTPS and must hold a certificate (Certificates, GetCertificate
// or GetConfigForClient). The server takes o's limits ([transport.Options.Limits]; see the
// package documentation) and logs refused connections, and what net/http logs (a panic in a
// handler, a failed TLS handshake), to o.Logger. A server is shared only
// with users asking for the same TLS setting (the same *tls.Config pointer, or nil for plain
// HTTP) and the same limits; otherwise Acquire returns an error naming the address and what
// differs. o.MaxFrameSize is not used.
//
// ctx bounds the bind only. Every handle must be released with [Server.Release]. Safe for
// concurrent use.
func Acquire(ctx context.Context, hostport string, o transport.Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("httpmux: listen %s: %w", hostport, err)
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		return nil, fmt.Errorf("httpmux: listen %q: want host:port: %w", hostport, err)
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("httpmux: listen %s: %w", hostport, err)
	}
	tlsConfig, limits := o.TLS, o.Limits()
	if tlsConfig != nil && len(tlsConfig.Certificates) == 0 && tlsConfig.GetCertificate == nil && tlsConfig.GetConfigForClient == nil {
		return nil, fmt.Errorf("httpmux: listen %s: the TLS config has no certificate (set Certificates, GetCertificate or GetConfigForClient)", hostport)
	}

	registry := registryOf(o.Ports)
	registry.Lock()
	defer registry.Unlock()
	if s, ok := registry.byAddr[hostport]; ok {
		switch {
		case s.tlsCfg == nil && tlsConfig != nil:
			return nil, fmt.Errorf("httpmux: listen %s: the address is already served without TLS", hostport)
		case s.tlsCfg != nil && tlsConfig == nil:
			return nil, fmt.Errorf("httpmux: listen %s: the address is already served with TLS", hostport)
		case s.tlsCfg != tlsConfig:
			return nil, fmt.Errorf("httpmux: listen %s: the address is already served with another *tls.Config; pass the same one to share it", hostport)
		case s.limits != limits:
			return nil, fmt.Errorf("httpmux: listen %s: the address is already served with other limits (%+v, not %+v); give its users the same options", hostport, s.limits, limits)
		}
		s.refs++
		return &Server{s: s}, nil
	}

	s, err := start(ctx, hostport, tlsConfig, limits, o)
	if err != nil {
		return nil, err
	}
	s.refs = 1
	s.reg = registry
	for _, k := range s.keys {
		registry.byAddr[k] = s
	}
	return &Server{s: s}, nil
}

// start binds hostport and serves it. The caller holds the registry lock.
func start(ctx context.Context, hostport string, tlsConfig *tls.Config, limits transport.Limits, o transport.Options) (*server, error) {
	var lc net.ListenConfig
	raw, err := lc.Listen(ctx, "tcp", hostport)
	if err != nil {
		return nil, fmt.Errorf("httpmux: listen %s: %w", hostport, err)
	}
	s := &server{addr: framed.WithZone(raw.Addr(), hostport).String(), tlsCfg: tlsConfig, limits: limits, served: make(chan struct{})}
	scheme := "http://"
	if tlsConfig != nil {
		scheme = "https://"
	}
	s.conns = limit.NewConns(limits.MaxConns, limits.MaxConnsPerIP, o.Logger, scheme+s.addr)
	s.keys = append(s.keys, s.addr)
	if _, port, _ := net.SplitHostPort(hostport); port != "0" && hostport != s.addr {
		s.keys = append(s.keys, hostport)
	}
	s.mux.Store(http.NewServeMux())

	var ln net.Listener = &onceCloseListener{Listener: raw}
	if tlsConfig != nil {
		ln = tls.NewListener(recordListener{ln}, http11Only(tlsConfig))
	}
	s.ln = ln
	s.http = &http.Server{
		Handler: http.HandlerFunc(s.serveHTTP),
		// It bounds the TLS handshake too (net/http takes the shortest of its timeouts).
		ReadHeaderTimeout: limits.HandshakeTimeout,
		IdleTimeout:       limits.HTTPIdleTimeout,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
		ConnState:         s.connState,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		ErrorLog: errorLog(o.Logger, scheme+s.addr),
		// A non-nil empty map turns HTTP/2 off: WebSocket upgrades need HTTP/1.1.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	go func() {
		defer close(s.served)
		_ = s.http.Serve(ln) // returns when the listener closes; Release reports shutdown errors
	}()
	return s, nil
}

// errorLog returns the error log of the server at addr: what net/http logs (a panic in a
// handler, a failed TLS handshake, an error accepting connections) goes to logger, one record
// per event; nowhere when logger is nil. A panic is logged as an error with its stack, and
// what a client causes on its connection alone (a failed TLS handshake, a query with
// semicolons) at debug level; the rest are warnings.
func errorLog(logger *slog.Logger, addr string) *log.Logger {
	if logger == nil {
		return log.New(io.Discard, "", 0)
	}
	return log.New(slogWriter{logger.With("addr", addr)}, "", 0)
}

// slogWriter writes each message of a [log.Logger] of net/http, which makes one Write per
// message, as one record.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level, args := slog.LevelWarn, []any(nil)
	switch {
	case strings.HasPrefix(msg, "http: panic serving "):
		// "http: panic serving <remote>: <value>\n<stack>"; the value may have lines of its
		// own, the stack (one goroutine's) starts at its last "goroutine N [...]:" line.
		rest := strings.TrimPrefix(msg, "http: panic serving ")
		remote, rest, _ := strings.Cut(rest, ": ")
		value, stack := rest, ""
		if i := strings.LastIndex(rest, "\ngoroutine "); i >= 0 {
			value, stack = rest[:i], rest[i+1:]
		}
		level, msg = slog.LevelError, "an HTTP handler panicked"
		args = []any{"remote", remote, "panic", value, "stack", stack}
	case strings.HasPrefix(msg, "http: TLS handshake error"), strings.HasPrefix(msg, "http: URL query contains semicolon"):
		level = slog.LevelDebug
	}
	w.log.Log(context.Background(), level, msg, args...)
	return len(p), nil
}

// http11Only returns a copy of cfg that offers HTTP/1.1 in ALPN and not HTTP/2, keeping any
// other protocols cfg lists. The configs cfg.GetConfigForClient returns, which crypto/tls
// uses instead of cfg, are given the same treatment.
func http11Only(cfg *tls.Config) *tls.Config {
	cfg = cfg.Clone()
	cfg.NextProtos = slices.DeleteFunc(slices.Clone(cfg.NextProtos), func(p string) bool { return p == "h2" })
	if !slices.Contains(cfg.NextProtos, "http/1.1") {
		cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
	}
	if get := cfg.GetConfigForClient; get != nil {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			c, err := get(hello)
			if err != nil || c == nil {
				return c, err // nil: cfg serves the client
			}
			return http11Only(c), nil
		}
	}
	return cfg
}

func (s *server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// net/http reads up to 4 KiB past its MaxHeaderBytes before it answers 431 itself.
	if headerSize(r) > s.limits.MaxHeaderBytes {
		w.Header().Set("Connection", "close")
		http.Error(w, "431 Request Header Fields Too Large", http.StatusRequestHeaderFieldsTooLarge)
		return
	}
	if s.limits.FrameTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = newTimedBody(r, w, s.limits)
	}
	s.mux.Load().ServeHTTP(w, r)
}

// headerSize returns the size of r's request line and header as clients write them (CRLF line
// ends, a space after each colon). net/http takes Host and Transfer-Encoding out of r.Header
// and may add a Cache-Control for a Pragma; they are counted as sent.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(" ") + len(r.RequestURI) + len(" ") + len(r.Proto) + len("\r\n\r\n")
	if r.URL.Host == "" && r.Host != "" { // else the Host line, if any, was ignored
		n += len("Host: \r\n") + len(r.Host)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	if len(r.TransferEncoding) > 0 {
		n += len("Transfer-Encoding: chunked\r\n")
	}
	if cc := r.Header["Cache-Control"]; len(cc) == 1 && cc[0] == "no-cache" && r.Header.Get("Pragma") == "no-cache" {
		n -= len("Cache-Control: no-cache\r\n")
	}
	return n
}

// connState counts the connections of the server while they speak HTTP: a new one over a cap
// is closed at once; a hijacked one (a WebSocket) is counted by its new owner.
func (s *server) connState(c net.Conn, state http.ConnState) {
	if state == http.StateNew {
		s.fresh.Store(c, struct{}{})
	} else {
		s.fresh.Delete(c)
	}
	if s.conns == nil {
		return
	}
	switch state {
	case http.StateNew:
		ip := limit.IP(c.RemoteAddr())
		if !s.conns.Acquire(ip) {
			_ = c.Close()
			return
		}
		s.counted.Store(c, ip)
	case http.StateHijacked, http.StateClosed:
		ip, ok := s.counted.LoadAndDelete(c)
		if !ok {
			return
		}
		if k, taken := s.taken.LoadAndDelete(c); taken && state == http.StateHijacked {
			k.(*Count).hijacked()
			return
		}
		s.conns.Release(ip.(netip.Addr))
	}
}

// connKey is the request context key of the connection a request came on.
type connKey struct{}

// Count is the count of one connection in a server's MaxConns and MaxConnsPerIP, taken by
// the handler that hijacks it ([Server.TakeCount]).
type Count struct {
	s    *server
	conn net.Conn
	ip   netip.Addr

	mu       sync.Mutex
	owned    bool // the connection was hijacked: the count is the taker's to release
	released bool
}

// TakeCount is for a handler about to hijack the connection of r, as a WebSocket upgrade
// does: once hijacked, the connection goes on counting in the server's MaxConns and
// MaxConnsPerIP (one connection on a shared port is counted once, whatever it speaks) until
// the handler calls [Count.Release], when the hijacked connection closes. If the connection
// is not hijacked after all, Release gives the count back to the server, which releases it
// when the connection ends. TakeCount returns nil, whose Release does nothing, when the
// server has no caps or r did not come through it.
func (h *Server) TakeCount(r *http.Request) *Count {
	s := h.s
	if s.conns == nil {
		return nil
	}
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	if c == nil {
		return nil
	}
	ip, ok := s.counted.Load(c)
	if !ok {
		return nil
	}
	k := &Count{s: s, conn: c, ip: ip.(netip.Addr)}
	s.taken.Store(c, k)
	return k
}

// hijacked moves the count to k's taker.
func (k *Count) hijacked() {
	k.mu.Lock()
	k.owned = true
	k.mu.Unlock()
}

// Release ends the count of a hijacked connection, or gives it back to the server if the
// connection was not hijacked. Calls after the first do nothing; so does a nil Count.
func (k *Count) Release() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.released {
		return
	}
	k.released = true
	if k.owned {
		k.s.conns.Release(k.ip)
		return
	}
	k.s.taken.CompareAndDelete(k.conn, k)
}

// Addr returns the bound address as host:port, with port 0 resolved, e.g. "127.0.0.1:7080".
func (h *Server) Addr() string { return h.s.addr }

// TLS reports whether the server serves HTTPS.
func (h *Server) TLS() bool { return h.s.tlsCfg != nil }

// Handle mounts handler on the shared server for pattern, a Go 1.22 [http.ServeMux] pattern
// such as "/", "/ws", "POST /netron/invoke" or "GET /health". The usual precedence applies:
// the most specific pattern wins, so "/" only receives what no other pattern matches.
//
// An invalid pattern, or one already mounted or conflicting with a mounted one, is refused
// with an error naming the address and the pattern. remove unmounts the handler; it is
// idempotent, and [Server.Release] removes what this handle mounted and did not remove.
// Requests already running finish normally. Handle fails once the handle is released.
func (h *Server) Handle(pattern string, handler http.Handler) (remove func(), err error) {
	if handler == nil {
		return nil, fmt.Errorf("httpmux: %s: pattern %q: nil handler", h.s.addr, pattern)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return nil, fmt.Errorf("httpmux: %s: pattern %q: the server handle is released", h.s.addr, pattern)
	}
	id, err := h.s.add(pattern, handler)
	if err != nil {
		return nil, err
	}
	if h.routes == nil {
		h.routes = map[uint64]struct{}{}
	}
	h.routes[id] = struct{}{}
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.routes, id)
			h.mu.Unlock()
			h.s.remove(id)
		})
	}, nil
}

// add mounts a route and returns its id.
func (s *server) add(pattern string, handler http.Handler) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.routes {
		if r.pattern == pattern {
			return 0, fmt.Errorf("httpmux: %s: pattern %q is already mounted", s.addr, pattern)
		}
	}
	s.nextID++
	routes := append(slices.Clone(s.routes), route{id: s.nextID, pattern: pattern, h: handler})
	mux, err := build(routes)
	if err != nil {
		return 0, fmt.Errorf("httpmux: %s: pattern %q: %w", s.addr, pattern, err)
	}
	s.routes = routes
	s.mux.Store(mux)
	return s.nextID, nil
}

// remove unmounts the route with the given id, if it is still mounted.
func (s *server) remove(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.routes, func(r route) bool { return r.id == id })
	if i < 0 {
		return
	}
	s.routes = slices.Delete(slices.Clone(s.routes), i, i+1)
	mux, err := build(s.routes)
	if err != nil { // unreachable: a subset of valid patterns is valid
		return
	}
	s.mux.Store(mux)
}

// build returns a ServeMux serving routes, turning the panic ServeMux raises for an invalid or
// conflicting pattern into an error.
func build(routes []route) (mux *http.ServeMux, err error) {
	defer func() {
		if p := recover(); p != nil {
			mux, err = nil, fmt.Errorf("%v", p)
		}
	}()
	mux = http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.pattern, r.h)
	}
	return mux, nil
}

// Release gives up this handle: it unmounts the handlers mounted through it, and when it was
// the last handle on the server, closes the listener at once (the port is free when Release
// returns) and shuts the server down gracefully, waiting for active requests until ctx ends
// and then closing their connections. The error reports a shutdown cut short by ctx. Release
// is idempotent: calls after the first return nil.
func (h *Server) Release(ctx context.Context) error {
	h.mu.Lock()
	if h.released {
		h.mu.Unlock()
		return nil
	}
	h.released = true
	ids := h.routes
	h.routes = nil
	h.mu.Unlock()
	for id := range ids {
		h.s.remove(id)
	}

	s := h.s
	registry := s.reg
	registry.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		for _, k := range s.keys {
			if registry.byAddr[k] == s {
				delete(registry.byAddr, k)
			}
		}
		_ = s.ln.Close() // free the port now; Shutdown below finds it closed
	}
	registry.Unlock()
	if !last {
		return nil
	}
	// A connection that has sent no request yet loses nothing when it is
	// closed; http.Server.Shutdown would wait up to 5 s for it to speak
	// (an HTTP client may open one and leave it unused).
	s.fresh.Range(func(c, _ any) bool {
		_ = c.(net.Conn).Close()
		return true
	})
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
		err = fmt.Errorf("httpmux: shut down %s: %w", s.addr, err)
	}
	<-s.served
	return err
}

// onceCloseListener makes Close idempotent, so that Release can free the port before
// http.Server.Shutdown closes the listener again.
type onceCloseListener struct {
	net.Listener
	once sync.Once
	err  error
}

func (l *onceCloseListener) Close() error {
	l.once.Do(func() { l.err = l.Listener.Close() })
	if errors.Is(l.err, net.ErrClosed) {
		return nil
	}
	return l.err
}

// recordListener gives each accepted socket to TLS through a [tlsrecord.Conn], so that a
// handler hijacking the connection (a WebSocket upgrade) can time its messages from their
// first byte on the wire, beneath TLS ([tlsrecord.Of]).
type recordListener struct{ net.Listener }

func (l recordListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tlsrecord.New(c), nil
}
