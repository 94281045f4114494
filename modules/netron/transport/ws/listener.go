package ws

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// releaseTimeout bounds the graceful shutdown of the shared HTTP server when a closing
// listener was its last user.
const releaseTimeout = 5 * time.Second

// Listener is a WebSocket endpoint mounted on a shared HTTP server. It implements
// [transport.Listener] and [http.Handler] (the upgrade handler). Safe for concurrent use.
type Listener struct {
	srv       *httpmux.Server
	remove    func()
	addr      string // scheme://bound-host:port[path]
	path      string
	scheme    string
	cfg       listenConfig
	limit     int
	closeWait time.Duration // transport.Options.CloseTimeout
	limits    transport.Limits
	accept    websocket.AcceptOptions

	conns chan *Conn    // upgraded connections waiting for Accept
	done  chan struct{} // closed by Close

	mu       sync.Mutex // guards closed and the Add calls of handlers
	closed   bool
	handlers sync.WaitGroup // ServeHTTP calls in progress
	once     sync.Once
	closeErr error
}

func newListener(srv *httpmux.Server, a address, cfg listenConfig, o transport.Options) *Listener {
	l := &Listener{
		srv:       srv,
		addr:      hostURL(a.scheme, srv.Addr()),
		path:      a.path,
		scheme:    a.scheme,
		cfg:       cfg,
		limit:     o.FrameLimit(),
		closeWait: o.CloseTimeout,
		limits:    o.Limits(),
		accept: websocket.AcceptOptions{
			OriginPatterns:     cfg.origins,
			InsecureSkipVerify: cfg.anyOrigin,
			CompressionMode:    websocket.CompressionDisabled,
		},
		conns: make(chan *Conn),
		done:  make(chan struct{}),
	}
	if a.path != "/" {
		l.addr += a.path
	}
	return l
}

// Accept waits for the next upgraded connection.
func (l *Listener) Accept(ctx context.Context) (transport.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: accept on %s: %w", l.scheme, l.addr, err)
	}
	select {
	case <-l.done:
		return nil, fmt.Errorf("%s: accept on %s: %w", l.scheme, l.addr, net.ErrClosed)
	default:
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("%s: accept on %s: %w", l.scheme, l.addr, net.ErrClosed)
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: accept on %s: %w", l.scheme, l.addr, ctx.Err())
	}
}

// Addr returns the endpoint as a URL with the bound port, e.g. ws://127.0.0.1:7080 or
// ws://127.0.0.1:7080/ws, without the listen options of the query.
func (l *Listener) Addr() string { return l.addr }

// Close unmounts the endpoint, refuses upgrades not yet accepted (closing them with 1001) and
// releases the shared HTTP server, which stops when no other user is left. Accepted
// connections stay open. Close is idempotent: calls after the first return nil.
func (l *Listener) Close() error {
	first := false
	l.once.Do(func() {
		first = true
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.done)
		l.remove()
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		l.closeErr = l.srv.Release(ctx)
		l.handlers.Wait()
	})
	if !first {
		return nil
	}
	return l.closeErr
}

// ServeHTTP upgrades WebSocket requests and hands the connections to Accept. A request that is
// not an upgrade is answered 426 on the listener's own path and 404 on other paths of its
// subtree; a refused Origin is answered 403. An upgraded connection goes on counting in the
// shared server's MaxConns and MaxConnsPerIP until it closes ([httpmux.Server.TakeCount]), so
// a port's caps hold for its HTTP and WebSocket connections together.
func (l *Listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		http.Error(w, "WebSocket endpoint closed", http.StatusServiceUnavailable)
		return
	}
	l.handlers.Add(1)
	l.mu.Unlock()
	defer l.handlers.Done()

	if r.URL.Path != l.path && !isUpgrade(r) {
		http.NotFound(w, r)
		return
	}
	var count *httpmux.Count
	if isUpgrade(r) {
		count = l.srv.TakeCount(r)
	}
	hw := &hijackRecorder{ResponseWriter: w}
	if l.limits.FrameTimeout > 0 {
		hw.rc = &readClock{
			clock: limit.FrameClock{Timeout: l.limits.FrameTimeout, Rate: l.limits.FrameMinRate},
			total: messageBound(l.limits.FrameTimeout, l.limits.FrameMinRate, l.limit),
			size:  l.limit,
		}
	}
	wc, err := websocket.Accept(hw, r, &l.accept)
	if err != nil || hw.conn == nil { // hw.conn: unreachable, Accept succeeds only after hijacking
		if err == nil {
			_ = wc.CloseNow()
		}
		count.Release() // not hijacked: the connection counts as HTTP again
		return
	}
	cfg := connConfig{
		limit:       l.limit,
		local:       l.addr,
		remote:      hostURL(l.scheme, r.RemoteAddr),
		token:       bearerToken(r),
		header:      r.Header.Clone(),
		tls:         r.TLS,
		pingEvery:   l.cfg.pingEvery,
		pingTimeout: l.cfg.pingTimeout,
		closeWait:   l.closeWait,
		release:     count.Release,
	}
	if r.Header.Get(GoClientHeader) != goClientValue {
		cfg.holdUntil = time.Now().Add(firstWriteDelay)
	}
	c := newConn(wc, hw.conn, cfg)
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

// isUpgrade reports whether r asks for a WebSocket upgrade.
func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

// headerHasToken reports whether the comma-separated header key holds token, ignoring case.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// bearerToken returns the token of an "Authorization: Bearer" header, else the token query
// parameter, else "" (NETRON-WIRE.md §4.4).
func bearerToken(r *http.Request) string {
	if scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " "); ok &&
		strings.EqualFold(scheme, "Bearer") {
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok
		}
	}
	return r.URL.Query().Get("token")
}

// hijackRecorder keeps the connection that websocket.Accept hijacks, so Close can drop it when
// the close handshake stalls.
type hijackRecorder struct {
	http.ResponseWriter
	conn *corkConn
	rc   *readClock // for conn; nil without a frame timeout
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// The library writes through brw.Writer: point it at the corking
	// connection too (nothing is buffered in it yet). It reads through
	// brw.Reader: point that at the corking connection too, which returns
	// what net/http had read ahead first, so the read clock sees every byte.
	cc := newCorkConn(c)
	brw.Writer.Reset(cc)
	if h.rc != nil {
		if n := brw.Reader.Buffered(); n > 0 {
			ahead, _ := brw.Reader.Peek(n)
			cc.pending = append([]byte(nil), ahead...)
		}
		cc.rc = h.rc
		brw.Reader.Reset(cc)
		if rc := tlsrecord.Of(c); rc != nil { // wss: time messages beneath TLS too
			h.rc.records = rc
			rc.Watch(cc)
		}
	}
	h.conn = cc
	return cc, brw, nil
}

var _ transport.Listener = (*Listener)(nil)
