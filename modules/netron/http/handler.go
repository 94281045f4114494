package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/titanframework/titan/internal/httpwrite"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Handler serves a Netron's services with the HTTP protocol of
// NETRON-WIRE.md §11 and the JSON routes; see the package documentation
// for the routes. It is safe for concurrent use; mount it on any
// http.ServeMux or router, or let [Listen] start a server for it.
type Handler struct {
	n      netron.Engine
	cfg    config
	log    *slog.Logger
	routes routeTable
	mounts []Mount // WithMounts, longest path first
	bodies bodyBudget

	mu       sync.RWMutex // guards closing against inflight.Add
	closing  bool
	inflight sync.WaitGroup
	stopped  context.Context // ends when Shutdown gives up waiting
	stop     context.CancelFunc
}

// NewHandler returns a handler for n's services. A misconfigured option is
// an error that names it.
func NewHandler(n netron.Engine, opts ...Option) (*Handler, error) {
	if n == nil {
		return nil, errors.New("httptransport: NewHandler needs a Netron (netron.Engine)")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	cfg.checkBodyMemory()
	if len(cfg.problemOpts) > 0 {
		return nil, fmt.Errorf("httptransport: %s", strings.Join(cfg.problemOpts, "; "))
	}
	h := &Handler{n: n, cfg: cfg, log: n.Logger().With("gateway", cfg.scheme), mounts: mounts(n)}
	h.bodies.limit = cfg.maxBodyMem
	h.stopped, h.stop = context.WithCancel(context.Background())
	h.routes = routeTable{
		describe: n.Describe,
		count:    func() int { return len(n.Services()) },
		scheme:   cfg.scheme,
	}
	return h, nil
}

// Shutdown refuses new requests with 503 and waits for those in flight
// until ctx ends; then it cancels the calls still running. It is safe to
// call more than once.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.stop()
		return fmt.Errorf("httptransport: requests still running: %w", ctx.Err())
	}
}

// begin counts a request in flight, or reports false once shutting down.
func (h *Handler) begin() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closing {
		return false
	}
	h.inflight.Add(1)
	return true
}

func (h *Handler) isClosing() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closing
}

// ServeHTTP routes a request (NETRON-WIRE.md §11.1).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	full := path // a JSON route's own path may start with the prefix
	if p := h.cfg.prefix; p != "" {
		if rest, ok := strings.CutPrefix(path, p); ok && (rest == "" || rest[0] == '/') {
			path = rest
			if path == "" {
				path = "/"
			}
		}
	}
	// Every answer, a mount's too, must be taken by the client as it is
	// written: one that stops reading is cut after the write timeout. A
	// connection a mount takes over (a WebSocket) keeps no deadline:
	// net/http clears it when the connection is hijacked.
	w = httpwrite.Timed(w, h.cfg.writeTimeout)
	defer httpwrite.Finish(w)
	if len(h.mounts) > 0 {
		// A mount answers all of its requests, preflights included: the
		// gateway's CORS policy is for its own routes.
		if m := h.mounted(path); m != nil {
			m.ServeHTTP(w, r)
			return
		}
	}
	origin := r.Header.Get("Origin")
	corsOK := h.cfg.cors.allows(origin)
	if h.cfg.cors != nil {
		// With or without a grant, the answer depends on Origin: a cache
		// must not give one origin's answer to another.
		w.Header().Add("Vary", "Origin")
	}
	if corsOK {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", origin)
		// The response headers the gateway's answers document.
		hd.Set("Access-Control-Expose-Headers", "X-Request-ID, X-Titan-Code, X-Trace-ID, X-Span-ID, Retry-After, WWW-Authenticate")
		if h.cfg.cors.Credentials {
			hd.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method == http.MethodOptions {
		if corsOK {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH, OPTIONS")
			// The request headers the gateway reads (metadataHeaders).
			hd.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Request-ID, Traceparent, Tracestate, "+TitanPeerHeader)
			hd.Set("Access-Control-Max-Age", "86400")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if path == "/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		h.serveHealth(w)
		return
	}
	if !h.begin() {
		writeError(w, requestID(r), requestError(netron.CodeUnavailable, http.StatusServiceUnavailable, "Server is shutting down"), true)
		return
	}
	defer h.inflight.Done()
	defer h.recovered(w, r)
	if a := h.n.Access(); a != nil && path != "/netron/authenticate" {
		// The caller of every other request is who its bearer token says
		// (the security module): its calls run as them, and what it is
		// shown is what they may call.
		ctx, end := h.identify(w, r, a)
		defer end()
		if ctx == nil {
			return // answered
		}
		r = r.WithContext(netron.WithRemoteAddr(ctx, r.RemoteAddr))
	}
	method := r.Method
	if method == http.MethodHead {
		// GET without the body (net/http drops it): the GET routes answer
		// HEAD as they answer GET.
		method = http.MethodGet
	}
	switch method + " " + path {
	case "POST /netron/invoke":
		h.serveInvoke(w, r)
	case "POST /netron/batch":
		h.serveBatch(w, r)
	case "POST /netron/authenticate":
		h.serveAuthenticate(w, r)
	case "GET /openapi.json":
		h.serveOpenAPI(w, r)
	case "GET /discover":
		h.serveDiscover(w, r)
	case "GET /metrics":
		// The original's JSON metrics need a bearer token of its
		// authentication manager; Prometheus metrics are modules/metrics'.
		writeAuthRequired(w)
	default:
		if r.Method == http.MethodPost {
			h.serveRoute(w, r, path, full)
			return
		}
		if target, ok := strings.CutPrefix(path, "/netron/definition/"); ok && method == http.MethodGet && target != "" {
			h.serveDefinition(w, r, target)
			return
		}
		if m, _ := h.routes.get().route(path); m != nil || full != path && h.routes.get().hasRoute(full) {
			w.Header().Set("Allow", "POST, OPTIONS")
			writeError(w, requestID(r), requestError(netron.CodeUnimplemented, http.StatusMethodNotAllowed, "Method not allowed: use POST"), true)
			return
		}
		writeError(w, requestID(r), requestError(netron.CodeNotFound, http.StatusNotFound, "Not found"), true)
	}
}

// identify returns r's context carrying its caller, as a identifies it,
// within the Netron's TaskTimeout, as runAuthenticator runs an
// authenticator; or nil when it answered the request: a's error, or, past
// the timeout (a store that does not answer, an Identify that ignores its
// context), deadline_exceeded at once. end, which the caller defers,
// ends the context Identify was given (the parent of the one it returns)
// once the request is served, and after a timeout waits for Identify to
// return, so that one client cannot pile up identifications on a
// connection. A panic of Identify is logged with its stack and answered
// as an internal error.
func (h *Handler) identify(w http.ResponseWriter, r *http.Request, a netron.Access) (ctx context.Context, end func()) {
	timeout := h.n.Config().TaskTimeout
	ictx, cancel := context.WithCancel(r.Context())
	creds := netron.RequestCredentials(h.cfg.scheme, r)
	done := make(chan identified, 1) // one send, whatever happens: never blocks
	go func() {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("the Access panicked in Identify", "path", r.URL.Path, "remote", r.RemoteAddr,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				done <- identified{err: netron.Errorf(netron.CodeInternal, "internal error")}
			}
		}()
		ctx, err := a.Identify(ictx, creds)
		done <- identified{ctx: ctx, err: err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case out := <-done:
		if out.err == nil && out.ctx == nil {
			h.log.Error("the Access's Identify returned no context and no error", "path", r.URL.Path, "remote", r.RemoteAddr)
			out.err = netron.Errorf(netron.CodeInternal, "internal error")
		}
		if out.err != nil {
			writeError(w, requestID(r), invocationError(out.err), true)
			return nil, cancel
		}
		return out.ctx, cancel
	case <-t.C:
	case <-r.Context().Done(): // the client is gone; nobody reads the answer
	}
	cancel()
	e := invocationError(netron.Errorf(netron.CodeDeadlineExceeded,
		"identifying the caller did not finish within %v (netron.taskTimeout)", timeout))
	// With its length, the answer is whole for the client while the
	// request still waits for Identify; the connection, busy until then,
	// is not the client's to send another request on.
	id := requestID(r)
	hd := w.Header()
	hd.Set("Content-Length", strconv.Itoa(len(appendErrorBody(nil, id, e))))
	hd.Set("Connection", "close")
	writeError(w, id, e, true)
	_ = http.NewResponseController(w).Flush()
	return nil, func() { <-done }
}

// identified is what Access.Identify returned.
type identified struct {
	ctx context.Context
	err error
}

// recovered, deferred by ServeHTTP, turns a panic of serving r into an
// internal error, logged with its stack: the gateway asks the app's Access
// (Identify, and Visible for what a caller is shown) outside the engine's
// recover, on the request's goroutine, where net/http would cut the
// connection without an answer and log nowhere. An answer already begun
// (a stream's items) is cut, as net/http would.
func (h *Handler) recovered(w http.ResponseWriter, r *http.Request) {
	p := recover()
	if p == nil {
		return
	}
	if p == http.ErrAbortHandler {
		panic(p)
	}
	h.log.Error("serving a request panicked", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	if httpwrite.Started(w) {
		panic(http.ErrAbortHandler)
	}
	writeError(w, requestID(r), invocationError(netron.Errorf(netron.CodeInternal, "internal error")), true)
}

// requestID returns the request's X-Request-ID when it is a sensible
// token, or a new UUIDv7.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && printable(id) {
		return id
	}
	if u, err := uuid.NewV7(); err == nil {
		return u.String()
	}
	return uuid.NewString()
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// readBody reads the request body within the size limit and the gateway's
// budget of body bytes (WithMaxBodyMemory). held is what it reserved of the
// budget for the body: the caller releases it (h.bodies.release) once done
// with the body and with what it decoded from it. On an error nothing stays
// reserved. A body over the size limit is a 413 error (the original
// crashes, NETRON-WIRE.md §13.4); one the budget has no room for is 503.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, held int64, aerr *apiError) {
	limit := h.cfg.maxBody
	tooLarge := func() *apiError { // built only when needed: it allocates
		return requestError(netron.CodeResourceExhausted, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body too large (max: %d bytes)", limit))
	}
	if r.ContentLength > limit {
		// Not Connection: close: net/http reads (to discard) up to 256 KiB
		// of the body before answering, so that a client still sending it
		// reads the 413 rather than a reset connection.
		return nil, 0, tooLarge()
	}
	// An announced body is reserved whole before any of it is read, so
	// that a request the budget has no room for is refused at once; another
	// is reserved 512 bytes at first, then as its buffer grows. The buffer
	// itself grows with the bytes that arrive (see bodyBudget.read).
	held = min(512, limit)
	if r.ContentLength >= 0 {
		held = r.ContentLength
	}
	if !h.bodies.reserve(held) {
		return nil, 0, h.bodyBudgetFull(w)
	}
	// Read to the end: a middleware may have replaced the body.
	body, held, err := h.bodies.read(http.MaxBytesReader(w, r.Body, limit), held, limit)
	if err != nil {
		h.bodies.release(held)
		if errors.Is(err, errBodyBudget) {
			return nil, 0, h.bodyBudgetFull(w)
		}
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, 0, tooLarge()
		}
		if errors.Is(err, transport.ErrFrameTimeout) {
			// The connection cannot be read any more: net/http closes it after the answer.
			h.log.Debug("request body not completed in time", "error", err)
			w.Header().Set("Connection", "close")
			return nil, 0, requestError(netron.CodeDeadlineExceeded, http.StatusRequestTimeout,
				"Request body not completed in time: "+strings.TrimPrefix(err.Error(), transport.ErrFrameTimeout.Error()+": "))
		}
		return nil, 0, requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Could not read the request body: "+err.Error())
	}
	return body, held, nil
}

// readAll is io.ReadAll appending to b, whose spare capacity is used first.
func readAll(b []byte, rd io.Reader) ([]byte, error) {
	if len(b) == cap(b) {
		b = append(b, 0)[:len(b)]
	}
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				return b, nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// metadataHeaders are the headers metadata reads (canonical, so Get does
// not build the key) and their metadata keys.
var metadataHeaders = [...][2]string{
	{"Authorization", "authorization"}, {"X-Request-Id", "x-request-id"},
	{"Traceparent", "traceparent"}, {"Tracestate", "tracestate"},
}

// metadata collects the caller's metadata from the request headers: the
// Authorization header (for the security module's interceptors), the
// request id and the W3C trace context.
func metadata(r *http.Request, extra map[string]string) map[string]string {
	md := extra
	for _, k := range &metadataHeaders {
		if v := r.Header.Get(k[0]); v != "" {
			if md == nil {
				md = make(map[string]string, 2)
			}
			md[k[1]] = v
		}
	}
	return md
}

func (h *Handler) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	if h.isClosing() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"draining"}`)
		return
	}
	_, _ = io.WriteString(w, `{"status":"online"}`)
}

func writeAuthRequired(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", "Bearer")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = io.WriteString(w, `{"error":{"code":"401","message":"Authentication required"}}`)
}

// serveDiscover answers GET /discover, which netron-browser's
// HttpConnection.ping calls (NETRON-WIRE.md §11.9): the services exposed
// here, as the list_services task gives them.
func (h *Handler) serveDiscover(w http.ResponseWriter, r *http.Request) {
	t := h.routes.refresh(false)
	shown := h.shown(r, t)
	b := append([]byte(nil), `{"services":[`...)
	first := true
	for _, s := range t.services {
		if shown != nil && len(shown[s.qualified]) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `{"name":`...)
		b = protocol.AppendJSONString(b, s.desc.Name)
		b = append(b, `,"version":`...)
		b = protocol.AppendJSONString(b, s.desc.Version)
		b = append(b, `,"id":`...)
		b = protocol.AppendJSONString(b, s.desc.ID)
		b = append(b, `,"methods":[`...)
		j := 0
		for _, m := range s.desc.Methods {
			if shown != nil && !shown[s.qualified][m.Name] {
				continue
			}
			if j > 0 {
				b = append(b, ',')
			}
			j++
			b = protocol.AppendJSONString(b, m.Name)
		}
		b = append(b, "]}"...)
	}
	b = append(b, "]}"...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// shown returns, by service, the methods the caller of r may call (the
// Netron's Access), or nil when there is no Access and every caller sees
// everything.
func (h *Handler) shown(r *http.Request, t *table) map[string]map[string]bool {
	if h.n.Access() == nil {
		return nil
	}
	out := make(map[string]map[string]bool, len(t.services))
	for _, s := range t.services {
		ms := h.n.VisibleMethods(r.Context(), s.qualified)
		if len(ms) == 0 {
			continue
		}
		set := make(map[string]bool, len(ms))
		for _, m := range ms {
			set[m] = true
		}
		out[s.qualified] = set
	}
	return out
}
