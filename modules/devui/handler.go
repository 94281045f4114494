package devui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// BasePath is the path the UI is served under: on the app's http://
// listeners, on the server of devui.listen and by `titan dev`. The page
// refers to its assets and its API by relative URLs, so it also works
// under a gateway's path prefix (/rpc/_titan/).
const BasePath = "/_titan/"

// The bounds of what one page may ask.
const (
	// MaxBody bounds the body of a call request.
	MaxBody = 1 << 20
	// MaxFeeds bounds the event feeds (WebSocket connections) open at
	// once.
	MaxFeeds = 32
	// MaxSubscriptions bounds the subscriptions of one event feed.
	MaxSubscriptions = 16
	// FeedIdleTimeout bounds the time an event feed stays open without a
	// subscription, from its opening or the end of its last one: it is
	// then closed (WebSocket close 1008), so that feeds nobody subscribes
	// on, or whose subscriptions the app refuses, do not hold the places
	// of [MaxFeeds].
	FeedIdleTimeout = time.Minute
	// FeedPingInterval is how often an event feed pings the page (a
	// WebSocket ping, which browsers answer by themselves); a page that
	// has not answered by the next ping is gone, with its machine or its
	// network, and its feed is closed.
	FeedPingInterval = 30 * time.Second
	// MaxEventPayload bounds the JSON text of an event's payload the feed
	// sends; a larger payload is left out, with a note.
	MaxEventPayload = 64 << 10
	// MaxFeedQueue bounds the bytes of the messages one event feed holds
	// for a page that reads them slowly; events beyond are dropped, and
	// counted for the page.
	MaxFeedQueue = 2 << 20
	// BodyTimeout bounds the time the body of a request takes to arrive
	// once the handler has its header (or the tester's timeout,
	// [WithTimeout], when that is shorter): a call whose body is late is
	// answered 408 (deadline_exceeded) and its connection closed. On the
	// app's HTTP gateway, the gateway's own bound applies instead
	// (netron.frameTimeout: 15 s, or 64 KiB per 10 s).
	BodyTimeout = 10 * time.Second
)

// Handler serves the development UI of a [Backend] under [BasePath]: the
// page, its assets, and the JSON API the page uses:
//
//	GET  api/info      the backend: {app, id, remote, patterns}
//	GET  api/services  the services the caller may see, with their methods and contracts
//	POST api/call      {"service", "method", "args": [...]} -> {"result", "ms"}
//	POST api/stream    the same -> NDJSON lines {"item"}, then {"end"} or {"error"}
//	GET  api/peers     the connected peers
//	GET  api/metrics   a glance at the metrics
//	GET  api/events    a WebSocket feed of events (see the package doc)
//
// A HEAD of a GET route answers as the GET does, without the body.
// The caller is who the request's bearer token says (Authorization:
// Bearer); an error answers {"error": {"code", "message", "details"}}
// with the HTTP status of its code.
//
// Before any route, the handler refuses (403, permission_denied) a
// caller on another machine unless [WithRemoteAccess] allows them, and a
// request whose Host is not localhost, a name under .localhost, a
// loopback address, the address the request came to or one of
// [WithAllowedHosts]: a page of another site whose name is re-pointed at
// this machine (DNS rebinding) names itself in Host. It answers no CORS
// preflight and removes the CORS grant a gateway's policy put in its
// answers: no page of another origin reads them. It is safe for
// concurrent use.
type Handler struct {
	b   Backend
	cfg handlerConfig

	mu      sync.Mutex
	closed  bool
	nfeeds  int             // event feeds open
	stopped context.Context // done once Close is called
	stop    context.CancelFunc
	feeds   sync.WaitGroup
}

type handlerConfig struct {
	timeout  time.Duration
	maxItems int
	log      *slog.Logger
	remote   bool            // answer callers on other machines
	hosts    map[string]bool // the Host names allowed besides this machine's, by hostName
	origins  map[string]bool // the origins allowed besides the one Host names, by parseOrigin
	// serverTimesBodies leaves bounding the arrival of request bodies to
	// the server (the HTTP gateway's, which has a bound of its own).
	serverTimesBodies bool
	// feedIdle, feedPing and feedWrite are FeedIdleTimeout,
	// FeedPingInterval and writeTimeout, shorter in the tests.
	feedIdle, feedPing, feedWrite time.Duration
}

// originList returns the allowed origins as patterns of the WebSocket
// handshake's check (path.Match), which match them exactly: the brackets
// of an IPv6 address escaped.
func (c *handlerConfig) originList() []string {
	var out []string
	for o := range c.origins {
		out = append(out, strings.NewReplacer("[", `\[`, "]", `\]`).Replace(o))
	}
	return out
}

// Option configures a [Handler].
type Option interface {
	apply(*handlerConfig)
	// String describes the option for diagnostics.
	String() string
}

type option struct {
	desc string
	fn   func(*handlerConfig)
}

func (o option) apply(c *handlerConfig) { o.fn(c) }
func (o option) String() string         { return o.desc }

// WithTimeout bounds each call and each stream the tester runs (default
// [DefaultTimeout]); a stream is stopped when it runs out.
func WithTimeout(d time.Duration) Option {
	return option{fmt.Sprintf("WithTimeout(%v)", d), func(c *handlerConfig) {
		if d > 0 {
			c.timeout = d
		}
	}}
}

// WithMaxStreamItems bounds the items the tester shows of one stream
// (default [DefaultMaxStreamItems]); the stream is stopped after them.
func WithMaxStreamItems(n int) Option {
	return option{fmt.Sprintf("WithMaxStreamItems(%d)", n), func(c *handlerConfig) {
		if n > 0 {
			c.maxItems = n
		}
	}}
}

// WithLogger sets where the handler logs (default nowhere).
func WithLogger(l *slog.Logger) Option {
	return option{"WithLogger(…)", func(c *handlerConfig) {
		if l != nil {
			c.log = l
		}
	}}
}

// WithRemoteAccess lets callers on other machines use the UI when allow
// is true. By default the handler answers callers on this machine only
// (a loopback address or a Unix socket), whatever address its server
// listens on; devui.allowRemote sets this option.
func WithRemoteAccess(allow bool) Option {
	return option{fmt.Sprintf("WithRemoteAccess(%t)", allow), func(c *handlerConfig) { c.remote = allow }}
}

// WithAllowedHosts adds host names (or addresses) the UI answers under,
// in the request's Host, besides this machine's own: localhost, the
// names under .localhost, the loopback addresses and the address the
// request came to. A reverse proxy that passes on a name of its own
// needs it. A port, given, is ignored; the comparison ignores case.
// devui.allowedHosts sets this option; given several times, the hosts
// add up.
func WithAllowedHosts(hosts ...string) Option {
	return option{fmt.Sprintf("WithAllowedHosts(%s)", strings.Join(hosts, ", ")), func(c *handlerConfig) {
		for _, host := range hosts {
			if name := hostName(host); name != "" {
				if c.hosts == nil {
					c.hosts = map[string]bool{}
				}
				c.hosts[name] = true
			}
		}
	}}
}

// WithAllowedOrigins adds origins (scheme://host[:port], as a browser
// sends them in Origin) whose pages the UI takes calls and event feeds
// from besides its own, the origin the request's Host names: the public
// origin of a reverse proxy that passes the UI a Host of its own needs
// it. An origin that is not one is ignored; the comparison ignores case
// and the scheme's default port. devui.allowedOrigins sets this option;
// given several times, the origins add up.
func WithAllowedOrigins(origins ...string) Option {
	return option{fmt.Sprintf("WithAllowedOrigins(%s)", strings.Join(origins, ", ")), func(c *handlerConfig) {
		for _, origin := range origins {
			if o, err := parseOrigin(origin); err == nil {
				if c.origins == nil {
					c.origins = map[string]bool{}
				}
				c.origins[o] = true
			}
		}
	}}
}

// NewHandler returns the handler of the UI of b.
func NewHandler(b Backend, opts ...Option) *Handler {
	cfg := handlerConfig{timeout: DefaultTimeout, maxItems: DefaultMaxStreamItems, log: slog.New(slog.DiscardHandler),
		feedIdle: FeedIdleTimeout, feedPing: FeedPingInterval, feedWrite: writeTimeout}
	for _, o := range opts {
		o.apply(&cfg)
	}
	stopped, stop := context.WithCancel(context.Background())
	return &Handler{b: b, cfg: cfg, stopped: stopped, stop: stop}
}

// Close closes the event feeds (WebSocket close 1001) and waits for
// them to end; the handler refuses new ones. It is safe to call more than
// once.
func (h *Handler) Close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		h.stop()
	}
	h.mu.Unlock()
	h.feeds.Wait()
}

// ServeHTTP serves the page, its assets and the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	for _, k := range corsHeaders {
		hd.Del(k)
	}
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	if hasBody(r) {
		if r.ProtoMajor == 1 {
			// Until callRequest has read the body: net/http would wait
			// for it before sending an answer given without reading it,
			// to keep the connection. (HTTP/2 resets the stream.)
			hd.Set("Connection", "close")
		}
		if !h.cfg.serverTimesBodies {
			// callRequest clears it once the body is in.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.bodyTimeout()))
		}
	}
	if err := h.checkCaller(r); err != nil {
		writeError(w, err)
		return
	}
	if r.Method == http.MethodOptions {
		// A CORS preflight, answered without a grant: the UI takes
		// requests from its own page only.
		hd.Set("Allow", "GET, HEAD, POST")
		hd.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	path := r.URL.Path
	i := strings.Index(path, BasePath)
	if i < 0 {
		if base := strings.TrimSuffix(BasePath, "/"); strings.HasSuffix(path, base) {
			// The page's relative URLs need the slash.
			http.Redirect(w, r, path+"/", http.StatusMovedPermanently)
			return
		}
		writeError(w, netron.Errorf(netron.CodeNotFound, "%s is not a page of the development UI", path))
		return
	}
	rest := path[i+len(BasePath):]
	if rest == "" || rest == "index.html" || strings.HasPrefix(rest, "assets/") {
		if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		serveAsset(w, r, rest)
		return
	}
	hd.Set("Cache-Control", "no-store")
	switch rest {
	case "api/info":
		if allowMethods(w, r, http.MethodGet, http.MethodHead) {
			writeJSON(w, http.StatusOK, h.b.Info())
		}
	case "api/services":
		h.serveGet(w, r, func(ctx context.Context) (any, error) { return h.b.Services(ctx) })
	case "api/peers":
		h.serveGet(w, r, func(ctx context.Context) (any, error) { return h.b.Peers(ctx) })
	case "api/metrics":
		h.serveGet(w, r, func(ctx context.Context) (any, error) { return h.b.Metrics(ctx) })
	case "api/call":
		h.serveCall(w, r)
	case "api/stream":
		h.serveStream(w, r)
	case "api/events":
		if allowMethods(w, r, http.MethodGet, http.MethodHead) {
			h.serveEvents(w, r)
		}
	default:
		writeError(w, netron.Errorf(netron.CodeNotFound, "%s is not a page of the development UI", path))
	}
}

// allowMethods reports whether r's method is one of methods, answering
// 405 when it is not.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeErrorStatus(w, http.StatusMethodNotAllowed,
		netron.Errorf(netron.CodeUnimplemented, "%s %s: use %s", r.Method, r.URL.Path, strings.Join(methods, " or ")))
	return false
}

// caller returns the context of r's caller, by its bearer token.
func (h *Handler) caller(r *http.Request, token string) (context.Context, error) {
	transport := "http"
	if r.TLS != nil {
		transport = "https"
	}
	c := netron.RequestCredentials(transport, r)
	if token != "" {
		c.Token = token
	}
	return h.b.Caller(r.Context(), c)
}

// serveGet answers a GET of the API with what get returns as JSON, and a
// HEAD as the GET, without the body (net/http leaves it out).
func (h *Handler) serveGet(w http.ResponseWriter, r *http.Request, get func(context.Context) (any, error)) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	ctx, err := h.caller(r, "")
	if err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	defer cancel()
	v, err := get(ctx)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// callRequest reads the call of a POST api/call or api/stream, with its
// caller's context bounded by the timeout. It answers the request itself
// when it returns false.
func (h *Handler) callRequest(w http.ResponseWriter, r *http.Request) (context.Context, context.CancelFunc, callRequest, bool) {
	fail := func(err error) (context.Context, context.CancelFunc, callRequest, bool) {
		writeError(w, err)
		return nil, nil, callRequest{}, false
	}
	if !allowMethods(w, r, http.MethodPost) {
		return nil, nil, callRequest{}, false
	}
	if err := h.sameOrigin(r); err != nil {
		return fail(err)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		// Also what keeps a page of another origin from posting a form
		// here: a JSON request from it needs a CORS preflight.
		return fail(netron.Errorf(netron.CodeInvalidArgument, "send the call as Content-Type: application/json, not %q", r.Header.Get("Content-Type")))
	}
	ctx, err := h.caller(r, "")
	if err != nil {
		return fail(err)
	}
	// ServeHTTP has bounded the time the body takes to arrive.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		_, tooLarge := errors.AsType[*http.MaxBytesError](err)
		switch {
		case tooLarge:
			writeErrorStatus(w, http.StatusRequestEntityTooLarge, netron.Errorf(netron.CodeResourceExhausted, "the request is larger than %d bytes", MaxBody))
		case errors.Is(err, transport.ErrFrameTimeout): // the HTTP gateway's bound
			writeErrorStatus(w, http.StatusRequestTimeout, netron.Errorf(netron.CodeDeadlineExceeded, "the request body did not arrive in time: %v", err))
		case errors.Is(err, os.ErrDeadlineExceeded):
			writeErrorStatus(w, http.StatusRequestTimeout, netron.Errorf(netron.CodeDeadlineExceeded, "the request body did not arrive within %v", h.bodyTimeout()))
		default:
			writeError(w, netron.Errorf(netron.CodeInvalidArgument, "the request body could not be read: %v", err))
		}
		return nil, nil, callRequest{}, false
	}
	// The body is in: the call may run and stream for longer than the
	// body's bound, and the connection may serve the next request.
	if !h.cfg.serverTimesBodies {
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
	w.Header().Del("Connection")
	q, err := parseCall(body)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.timeout)
	return ctx, cancel, q, true
}

// hasBody reports whether r announces a body.
func hasBody(r *http.Request) bool { return r.Body != nil && r.Body != http.NoBody }

// bodyTimeout is the time the body of a request may take to arrive.
func (h *Handler) bodyTimeout() time.Duration { return min(BodyTimeout, h.cfg.timeout) }

// serveCall answers POST api/call: {"result": ..., "ms": N}.
func (h *Handler) serveCall(w http.ResponseWriter, r *http.Request) {
	ctx, cancel, q, ok := h.callRequest(w, r)
	if !ok {
		return
	}
	defer cancel()
	start := time.Now()
	v, err := h.b.Call(ctx, q.Service, q.Method, q.Args)
	if err != nil {
		writeError(w, h.timedOut(ctx, err, "call"))
		return
	}
	b := append(make([]byte, 0, 64), `{"result":`...)
	if b, err = protocol.AppendValueJSON(b, v); err != nil {
		h.cfg.log.Warn("a result has no JSON form", "service", q.Service, "method", q.Method, "error", err)
		writeError(w, netron.Errorf(netron.CodeInternal, "the result of %s.%s has no JSON form: %v", q.Service, q.Method, err))
		return
	}
	b = append(b, `,"ms":`...)
	b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// serveStream answers POST api/stream with one JSON object a line
// (application/x-ndjson), each written as it comes: {"item": ...} per
// item, then {"end": true, "items": N, "ms": N} (with "stopped" saying
// why when the tester's bounds ended the stream) or {"error": {...},
// "items": N}. An error before the first item is an ordinary error
// answer.
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request) {
	ctx, cancel, q, ok := h.callRequest(w, r)
	if !ok {
		return
	}
	defer cancel()
	start := time.Now()
	seq, err := h.b.Stream(ctx, q.Service, q.Method, q.Args)
	if err != nil {
		writeError(w, h.timedOut(ctx, err, "stream"))
		return
	}
	rc := http.NewResponseController(w)
	started := false
	begin := func() {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
	}
	line := func(b []byte) bool {
		begin()
		if _, err := w.Write(append(b, '\n')); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	items := 0
	end := func(b []byte) []byte {
		b = append(b, `,"items":`...)
		b = strconv.AppendInt(b, int64(items), 10)
		b = append(b, `,"ms":`...)
		b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
		return append(b, '}')
	}
	var stopped string
	for v, err := range seq {
		if err != nil {
			switch {
			case r.Context().Err() != nil:
				return // the page went away
			case errors.Is(ctx.Err(), context.DeadlineExceeded):
			case !started:
				writeError(w, err)
				return
			default:
				line(end(appendError(append([]byte(nil), `{"error":`...), err)))
				return
			}
			break // the tester's timeout, reported below
		}
		if items == h.cfg.maxItems {
			stopped = fmt.Sprintf("the tester shows at most %d items of a stream (devui.maxStreamItems): the stream was stopped", h.cfg.maxItems)
			break
		}
		b, jerr := protocol.AppendValueJSON(append(make([]byte, 0, 64), `{"item":`...), v)
		if jerr != nil {
			h.cfg.log.Warn("a stream item has no JSON form", "service", q.Service, "method", q.Method, "error", jerr)
			line(end(appendError(append([]byte(nil), `{"error":`...),
				netron.Errorf(netron.CodeInternal, "item %d of %s.%s has no JSON form: %v", items+1, q.Service, q.Method, jerr))))
			return
		}
		if !line(append(b, '}')) {
			return // the page went away
		}
		items++
	}
	if stopped == "" && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
		stopped = fmt.Sprintf("the stream ran for %v (devui.timeout): it was stopped", h.cfg.timeout)
	}
	b := []byte(`{"end":true`)
	if stopped != "" {
		b = append(b, `,"stopped":`...)
		b = protocol.AppendJSONString(b, stopped)
	}
	line(end(b))
}

// timedOut names the tester's timeout in the error of a call that ran
// out of it.
func (h *Handler) timedOut(ctx context.Context, err error, what string) error {
	if netron.CodeOf(err) == netron.CodeDeadlineExceeded && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return netron.Errorf(netron.CodeDeadlineExceeded, "the %s did not end within %v (devui.timeout)", what, h.cfg.timeout)
	}
	return err
}
