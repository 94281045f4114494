package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// streamMode is how a JSON route answers a stream method.
type streamMode uint8

const (
	modeArray  streamMode = iota // one JSON array of every item
	modeSSE                      // text/event-stream
	modeNDJSON                   // application/x-ndjson
)

// negotiate picks the stream answer from Accept: the first of
// text/event-stream, application/x-ndjson (or application/ndjson) and
// application/json listed; an array when none is.
func negotiate(accept string) streamMode {
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		switch strings.ToLower(strings.TrimSpace(mt)) {
		case "text/event-stream":
			return modeSSE
		case "application/x-ndjson", "application/ndjson":
			return modeNDJSON
		case "application/json":
			return modeArray
		}
	}
	return modeArray
}

// routeArgs reads a JSON route's body: a JSON array is the positional
// argument list; any other value is the single argument of a method that
// takes one (typically a struct, given as the object itself); an empty body
// is no arguments.
func routeArgs(body []byte, m *methodEntry) ([]protocol.RawValue, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	args, array, aerr := argsFromJSON(body)
	if aerr != nil {
		return nil, aerr
	}
	if !array && m.desc.Arity != 1 {
		return nil, requestError(netron.CodeInvalidArgument, http.StatusBadRequest,
			"Invalid request body: want a JSON array of the "+strconv.Itoa(m.desc.Arity)+" arguments of "+m.svc.qualified+"."+m.desc.Name)
	}
	return args, nil
}

// serveRoute answers POST <route>/<method>: the plain JSON result (200),
// no body for a void method (204), or the items of a stream as SSE, NDJSON
// or one array; errors are the §11.4 body with the status of the code.
// path is the request's path without the gateway's prefix (WithPathPrefix),
// full the path as it came: a route whose own path starts with the prefix
// (titan.HTTP("/api/users") with the prefix /api) is still served there.
func (h *Handler) serveRoute(w http.ResponseWriter, r *http.Request, path, full string) {
	m, s := h.routes.route(path)
	if m == nil && s == nil && full != path {
		if fm, fs := h.routes.route(full); fm != nil || fs != nil {
			m, s, path = fm, fs, full
		}
	}
	if m == nil {
		e := requestError(netron.CodeNotFound, http.StatusNotFound, "Not found")
		base, method, _ := cutLast(path)
		target, underRPC := strings.CutPrefix(base, rpcPrefix)
		switch {
		case s != nil:
			e = invocationError(netron.MethodNotFound(s.qualified, method, h.shownMethods(r.Context(), s)))
		case underRPC && target != "":
			e = invocationError(netron.ServiceNotFound(target, h.shownServices(r.Context())))
		}
		writeError(w, requestID(r), e, true)
		return
	}
	body, held, aerr := h.readBody(w, r)
	if aerr != nil {
		writeError(w, requestID(r), aerr, true)
		return
	}
	// The call holds the arguments decoded from it; a stream answered as
	// SSE or NDJSON holds only those (see below) until it ends.
	defer func() { h.bodies.release(held) }()
	args, aerr := routeArgs(body, m)
	if aerr != nil {
		writeError(w, requestID(r), aerr, true)
		return
	}
	md := metadata(r, nil)
	mode := modeArray
	if m.desc.Stream {
		mode = negotiate(r.Header.Get("Accept"))
	}
	if mode != modeArray {
		// It has no timeout: it keeps its arguments, not the body (and
		// the buffer made for it) they were read from.
		args, held = h.bodies.keep(args, held)
		h.serveStream(w, r, m, args, md, mode)
		return
	}
	ctx, cancel := h.callContext(r, h.cfg.timeout)
	defer cancel()
	res, err := h.call(ctx, m, args, md, h.n.Config().MaxFrameSize)
	if err != nil {
		writeError(w, requestID(r), callError(ctx, err, h.cfg.timeout), true)
		return
	}
	if !res.hasData {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	b, err := res.appendJSON(make([]byte, 0, 64))
	if err != nil {
		h.encodingFailed(w, requestID(r), m, err)
		return
	}
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	hd["Cache-Control"] = noStore
	_, _ = w.Write(b)
}

// serveStream sends a stream's items as they come: Server-Sent Events
// ("data: <json>" per item, then "event: end" with {"count":N}, or
// "event: error" with the error body) or NDJSON (one item per line; a
// failure ends the body with the error body's line). An error before the
// first item is a plain error answer with its status. An SSE answer
// silent for the keep-alive period (WithStreamKeepAlive) sends a comment
// line, after its status and headers if no item has sent them, so that
// neither the client nor the proxies on the way take it for a dead
// connection.
//
// Leaving the loop before the stream's end (an item without a JSON form,
// a client gone) ends the stream's context first, with why: what the
// interceptors record as the stream's outcome (see
// netron.StreamingHandlerFunc).
func (h *Handler) serveStream(w http.ResponseWriter, r *http.Request, m *methodEntry, args []protocol.RawValue, md map[string]string, mode streamMode) {
	cctx, cancel := h.callContext(r, 0)
	defer cancel()
	ctx, stop := context.WithCancelCause(cctx)
	defer stop(nil)
	seq, err := h.n.InvokeStream(ctx, &netron.Invocation{
		Service: m.svc.qualified, Method: m.desc.Name, Args: args, Metadata: md, Transport: h.cfg.scheme,
	})
	if err != nil {
		writeError(w, requestID(r), invocationError(err), true)
		return
	}
	start := func() {
		hd := w.Header()
		if mode == modeSSE {
			hd.Set("Content-Type", "text/event-stream")
		} else {
			hd.Set("Content-Type", "application/x-ndjson")
		}
		hd.Set("Cache-Control", "no-cache")
		hd.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
	}
	var quiet time.Duration // NDJSON has no line that is not an item
	if mode == modeSSE {
		quiet = h.cfg.streamKeepAlive
	}
	fl := newStreamFlusher(w, streamFlushEvery, start, quiet, sseKeepAlive)
	defer fl.stop() // the timers stopped on every way out, a panic's too
	var buf []byte
	count := 0
	failed := func(e *apiError) {
		buf = buf[:0]
		if mode == modeSSE {
			buf = append(buf, "event: error\ndata: "...)
		}
		buf = appendStreamErrorBody(buf, requestID(r), e)
		if mode == modeSSE {
			buf = append(buf, "\n\n"...)
		} else {
			buf = append(buf, '\n')
		}
		fl.finish(buf)
	}
	for v, err := range seq {
		if err != nil {
			e := invocationError(err)
			if !fl.unbegun(func() { writeError(w, requestID(r), e, true) }) {
				failed(e)
			}
			return
		}
		buf = buf[:0]
		if mode == modeSSE {
			buf = append(buf, "data: "...)
		}
		if buf, err = protocol.AppendValueJSON(buf, v); err != nil {
			h.log.Error("stream item not encodable as JSON", "service", m.svc.qualified, "method", m.desc.Name, "item", count+1, "error", err)
			stop(netron.NewError(netron.CodeInternal, fmt.Errorf("stream item %d has no JSON form: %w", count+1, err)))
			failed(invocationError(netron.Errorf(netron.CodeInternal, "internal error")))
			return
		}
		if mode == modeSSE {
			buf = append(buf, "\n\n"...)
		} else {
			buf = append(buf, '\n')
		}
		if err := fl.write(buf); err != nil {
			stop(errClientGone)
			fl.stop()
			return // leaving the loop ends the stream
		}
		count++
	}
	buf = buf[:0]
	if mode == modeSSE {
		buf = append(buf, "event: end\ndata: {\"count\":"...)
		buf = strconv.AppendInt(buf, int64(count), 10)
		buf = append(buf, "}\n\n"...)
	}
	fl.finish(buf)
}

// sseKeepAlive is the comment line a stream answered as Server-Sent Events
// sends after a quiet period (WithStreamKeepAlive): clients skip it.
var sseKeepAlive = []byte(": keep-alive\n\n")

// errClientGone is the cause of a stream whose HTTP client stopped
// taking its items (the connection closed, or a write timed out).
var errClientGone = netron.NewError(netron.CodeCanceled, errors.New("the HTTP client stopped taking the stream's items"))
