package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/jsonwalk"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// invokeRequest is the body of POST /netron/invoke and one request of a
// batch (NETRON-WIRE.md §11.2). The JSON texts alias the body.
type invokeRequest struct {
	ID, Service, Method          string
	hasID, hasService, hasMethod bool   // each was a string
	Input, Context, Hints        []byte // JSON texts; nil when absent
}

// parseInvoke reads an invoke request from the JSON text of an object
// (jsonwalk.Valid accepted it). As with JSON.parse, keys match exactly and a
// repeated key's last value counts. The strings alias text, which must not
// change while the request is served.
func parseInvoke(text []byte) invokeRequest {
	var q invokeRequest
	jsonwalk.Members(text, func(key, value []byte) bool {
		switch jsonwalk.View(key) {
		case "id":
			q.ID, q.hasID = jsonString(value)
		case "service":
			q.Service, q.hasService = jsonString(value)
		case "method":
			q.Method, q.hasMethod = jsonString(value)
		case "input":
			q.Input = value
		case "context":
			q.Context = value
		case "hints":
			q.Hints = value
		}
		return true
	})
	return q
}

// jsonString returns the string whose JSON text is value, or false when
// value is not a string.
func jsonString(value []byte) (string, bool) {
	if len(value) == 0 || value[0] != '"' {
		return "", false
	}
	return jsonwalk.View(value), true
}

func (q *invokeRequest) valid() bool {
	return q.hasID && q.hasService && q.hasMethod && q.Input != nil
}

// timeout returns the call's timeout: hints.timeout (milliseconds) when
// it is a positive number below limit, the gateway's timeout, else limit.
// A client may shorten the gateway's timeout, not make it hold a call
// longer.
func (q *invokeRequest) timeout(limit time.Duration) time.Duration {
	if len(q.Hints) == 0 {
		return limit
	}
	var hints struct {
		Timeout any `json:"timeout"`
	}
	if json.Unmarshal(q.Hints, &hints) != nil {
		return limit
	}
	if ms, ok := hints.Timeout.(float64); ok && ms > 0 && ms < float64(limit)/float64(time.Millisecond) {
		// Whole milliseconds, rounded up: a positive hint below one
		// nanosecond would otherwise be 0, which means no deadline at all.
		return min(time.Duration(math.Ceil(ms))*time.Millisecond, limit)
	}
	return limit
}

// contextMetadata adds the string fields of the request's context object
// (traceId, spanId, userId, tenantId, ...) to the call's metadata.
func (q *invokeRequest) contextMetadata() map[string]string {
	if len(q.Context) == 0 || q.Context[0] != '{' {
		return nil
	}
	var c map[string]any
	if json.Unmarshal(q.Context, &c) != nil {
		return nil
	}
	var md map[string]string
	for k, v := range c {
		if s, ok := v.(string); ok {
			if md == nil {
				md = map[string]string{}
			}
			md[k] = s
		}
	}
	return md
}

// invalidJSON describes why text is not JSON, as encoding/json says it.
func invalidJSON(text []byte) *apiError {
	var v any
	err := json.Unmarshal(text, &v)
	if err == nil { // cannot happen: called when jsonwalk.Valid refused text
		err = errors.New("invalid JSON")
	}
	return requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid JSON: "+jsonProblem(err))
}

// jsonProblem describes a JSON syntax error for a 400 message.
func jsonProblem(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("%s (at offset %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.EOF) {
		return "empty body"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// argsFromJSON encodes the JSON text of a call's arguments by the one JSON
// mapping of NETRON-WIRE.md §11.1: an array is the positional argument
// list, any other value a single argument (array reports which).
func argsFromJSON(text []byte) (args []protocol.RawValue, array bool, aerr *apiError) {
	i := jsonwalk.Space(text, 0)
	array = i < len(text) && text[i] == '['
	depth := protocol.DefaultMaxDepth
	if array { // the list is a level of its own: each argument may nest as deep as a value alone
		depth++
	}
	raw, err := protocol.AppendJSONDepth(make([]byte, 0, len(text)+8), text, depth) // MessagePack is rarely longer
	if err != nil {
		if de, ok := errors.AsType[*protocol.DecodeError](err); ok && errors.Is(err, protocol.ErrTooLarge) {
			// A number beyond the float64 range: say which argument holds it.
			arg := 1
			if array {
				arg = jsonwalk.ElementAt(text, de.Offset)
			}
			return nil, false, requestError(netron.CodeInvalidArgument, http.StatusBadRequest,
				"Invalid input: argument "+strconv.Itoa(arg)+": "+de.Msg)
		}
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			return nil, false, requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid JSON: "+jsonProblem(err))
		}
		if errors.Is(err, protocol.ErrTooDeep) {
			// The limit of an argument, not of the list around it, and
			// which argument passes it.
			arg := 1
			if array {
				arg = jsonwalk.ElementAt(text, deepAt(text, depth))
			}
			return nil, false, requestError(netron.CodeInvalidArgument, http.StatusBadRequest,
				"Invalid input: argument "+strconv.Itoa(arg)+": more than "+strconv.Itoa(protocol.DefaultMaxDepth)+" nested arrays and objects")
		}
		return nil, false, requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid input: "+err.Error())
	}
	if !array {
		return []protocol.RawValue{raw}, false, nil
	}
	args, err = protocol.SplitArray(raw, nil, protocol.Limits{MaxFrameSize: math.MaxInt, MaxDepth: depth})
	if err != nil { // cannot happen: AppendJSON wrote one array within the limits
		return nil, true, requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid input: "+err.Error())
	}
	return args, true, nil
}

// deepAt returns the offset of the first array or object of the JSON text
// nested more than maxDepth deep, or -1.
func deepAt(text []byte, maxDepth int) int {
	depth := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '"':
			i = jsonwalk.StringEnd(text, i) - 1
		case '[', '{':
			if depth++; depth > maxDepth {
				return i
			}
		case ']', '}':
			depth--
		}
	}
	return -1
}

// result is the outcome of a call: its value (a Go value, or the items of
// a stream as []any) and whether it has one (void methods have none).
type result struct {
	data    any
	hasData bool
	// json is data's JSON text when it is written already (the array of a
	// drained stream); nil otherwise.
	json []byte
}

// appendJSON appends the JSON text of the result's data.
func (r result) appendJSON(b []byte) ([]byte, error) {
	if r.json != nil {
		return append(b, r.json...), nil
	}
	return protocol.AppendValueJSON(b, r.data)
}

// call runs a method: unary and void methods through Invoke, streams
// through InvokeStream, drained into an array of at most maxStreamItems
// items and limit bytes, as the original drains generators.
func (h *Handler) call(ctx context.Context, m *methodEntry, args []protocol.RawValue, md map[string]string, limit int) (result, error) {
	inv := &netron.Invocation{
		Service: m.svc.qualified, Method: m.desc.Name, Args: args,
		Metadata: md, Transport: h.cfg.scheme,
	}
	if m.desc.Stream {
		return h.drain(ctx, inv, limit)
	}
	v, err := h.n.Invoke(ctx, inv)
	if err != nil {
		return result{}, err
	}
	return result{data: v, hasData: !m.desc.Void}, nil
}

// drain runs a stream method and writes its items as one JSON array (a
// function of its own: the range over the iterator would move call's
// results to the heap). Each item is written as NDJSON and SSE answers
// write it, once; the array is part of one answer, so it may take at most
// limit bytes (what is left of netron's maxFrameSize), counted as the
// items come, so that large items stop the stream long before its
// 10000th. Stopping at a limit ends the stream's context with its error,
// which tells the interceptors why (see netron.StreamingHandlerFunc).
func (h *Handler) drain(ctx context.Context, inv *netron.Invocation, limit int) (result, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	seq, err := h.n.InvokeStream(ctx, inv)
	if err != nil {
		return result{}, err
	}
	b, n := []byte{'['}, 0
	for v, err := range seq {
		if err != nil {
			return result{}, err
		}
		if n == maxStreamItems {
			stop(errTooManyItems)
			return result{}, errTooManyItems
		}
		if n > 0 {
			b = append(b, ',')
		}
		next, err := protocol.AppendValueJSON(b, v)
		if err != nil {
			// The answer is the item that has no JSON form: its writer
			// reports it as it reports any result without one.
			stop(err)
			return result{data: v, hasData: true}, nil
		}
		if b, n = next, n+1; len(b)+1 > limit {
			e := tooManyBytes(limit)
			stop(e)
			return result{}, e
		}
	}
	return result{hasData: true, json: append(b, ']')}, nil
}

var errTooManyItems = netron.Errorf(netron.CodeResourceExhausted,
	"Async generator exceeded maximum item limit (%d items). Use a streaming transport (WebSocket, or this gateway's SSE or NDJSON answers) for larger results.", maxStreamItems)

// errTooManyBytes is the cause of a drain stopped at its byte limit.
var errTooManyBytes = errors.New("the items of the stream exceed the size of one answer")

// tooManyBytes is the error of a stream whose items, drained into one
// JSON array, would take more than limit bytes.
func tooManyBytes(limit int) error {
	return netron.NewError(netron.CodeResourceExhausted, fmt.Errorf(
		"%w: the array of its items would take more than %d bytes of JSON (netron.maxFrameSize). Use a streaming transport (WebSocket, or this gateway's SSE or NDJSON answers) for larger results",
		errTooManyBytes, limit))
}

// callError converts the error of a call, naming the timeout when the
// call's own deadline (timeout) passed, and the request's context when a
// deadline set on it outside the gateway (a middleware's) passed first.
func callError(ctx context.Context, err error, timeout time.Duration) *apiError {
	if errors.Is(err, errTooManyItems) || errors.Is(err, errTooManyBytes) {
		e := invocationError(err)
		e.status, e.code = http.StatusRequestEntityTooLarge, "413"
		return e
	}
	e := invocationError(err)
	if e.goCode == netron.CodeDeadlineExceeded && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		switch {
		case !endedByRequest(ctx):
			e.message = fmt.Sprintf("Request timed out after %dms", timeout.Milliseconds())
		case timeout > 0:
			e.message = fmt.Sprintf("Request timed out: the deadline of the request's context passed (one set outside the gateway, such as a middleware's) before the call's own timeout of %dms",
				timeout.Milliseconds())
		default:
			e.message = "Request timed out: the deadline of the request's context passed (one set outside the gateway, such as a middleware's)"
		}
	}
	return e
}

// notFoundError is the error of an invoke whose service (s nil) or method
// does not exist: Titan's message, listing what exists, for a Titan peer
// (titan true: the request carried [TitanPeerHeader]); the original's
// wording (NETRON-WIRE.md §11.4) for others, whose clients and tests pin it.
// Either way an unknown name is repeated up to netron.EchoLimit bytes.
func (h *Handler) notFoundError(ctx context.Context, s *serviceEntry, service, method string, titan bool) *apiError {
	switch {
	case titan && s == nil:
		return invocationError(netron.ServiceNotFound(service, h.shownServices(ctx)))
	case titan:
		return invocationError(netron.MethodNotFound(s.qualified, method, h.shownMethods(ctx, s)))
	case s == nil:
		return requestError(netron.CodeNotFound, http.StatusNotFound, "Service "+clip(service)+" not found")
	}
	return requestError(netron.CodeNotFound, http.StatusNotFound, "Method "+clip(method)+" not found in service "+clip(service))
}

// shownServices returns the qualified names of the services the caller in
// ctx may call a method of, which a not_found error lists.
func (h *Handler) shownServices(ctx context.Context) []string {
	names := h.routes.get().names()
	if h.n.Access() == nil {
		return names
	}
	return slices.DeleteFunc(names, func(q string) bool { return len(h.n.VisibleMethods(ctx, q)) == 0 })
}

// shownMethods returns the names of the methods of s the caller in ctx
// may call, sorted, which a not_found error lists.
func (h *Handler) shownMethods(ctx context.Context, s *serviceEntry) []string {
	names := s.methodNames()
	if h.n.Access() == nil {
		return names
	}
	visible := h.n.VisibleMethods(ctx, s.qualified)
	return slices.DeleteFunc(names, func(m string) bool { return !slices.Contains(visible, m) })
}

// TitanPeerHeader is the request header by which a Titan client (such as
// [Client], which always sends it with the value "1") asks
// /netron/invoke and /netron/batch for Titan's wording of errors where it
// differs from the original's: a not-found error then lists the services
// or methods that exist. The JSON routes always answer in Titan's wording.
const TitanPeerHeader = "X-Titan-Peer"

// titanPeer reports whether r comes from a Titan client.
func titanPeer(r *http.Request) bool { return r.Header.Get(TitanPeerHeader) != "" }

// clip cuts a name an error repeats to netron.EchoLimit bytes, at a
// character boundary, marked with "…".
func clip(s string) string {
	if len(s) <= netron.EchoLimit {
		return s
	}
	cut := netron.EchoLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// serveInvoke answers POST /netron/invoke (NETRON-WIRE.md §11.2).
func (h *Handler) serveInvoke(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, held, aerr := h.readBody(w, r)
	if aerr != nil {
		writeError(w, requestID(r), aerr, true)
		return
	}
	// The id and names of the request alias the body, and the call holds
	// the arguments decoded from it: both until the answer is written.
	defer h.bodies.release(held)
	// The body is checked but for its input, which the transcoder checks
	// as it reads it (one pass over the bulk of the body, not two): now,
	// so that a body whose input is not JSON is refused as not JSON before
	// anything else, as any other.
	input, outside := jsonwalk.ValidOutside(body, "input")
	if !outside && !jsonwalk.Valid(body) {
		writeError(w, requestID(r), invalidJSON(body), true)
		return
	}
	var args []protocol.RawValue
	if outside && input != nil {
		args, _, aerr = argsFromJSON(input)
		if aerr != nil && !jsonwalk.Valid(body) {
			writeError(w, requestID(r), invalidJSON(body), true)
			return
		}
	}
	q := parseInvoke(body)
	if !q.valid() {
		writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid request format"), true)
		return
	}
	id := q.ID
	s, m := h.routes.lookup(q.Service, q.Method)
	if m == nil {
		writeError(w, id, h.notFoundError(r.Context(), s, q.Service, q.Method, titanPeer(r)), false)
		return
	}
	if !outside {
		args, _, aerr = argsFromJSON(q.Input)
	}
	if aerr != nil {
		writeError(w, id, aerr, false)
		return
	}
	timeout := q.timeout(h.cfg.timeout)
	ctx, cancel := h.callContext(r, timeout)
	defer cancel()
	res, err := h.call(ctx, m, args, metadata(r, q.contextMetadata()), h.n.Config().MaxFrameSize)
	if err != nil {
		writeError(w, id, callError(ctx, err, timeout), false)
		return
	}
	// The answer is built in a pooled buffer: Write copies it out.
	buf := getBuf()
	defer putBuf(buf)
	b := append((*buf)[:0], `{"id":`...)
	b = protocol.AppendJSONString(b, id)
	b = append(b, `,"success":true`...)
	if res.hasData {
		b = append(b, `,"data":`...)
		if b, err = res.appendJSON(b); err != nil {
			*buf = b
			h.encodingFailed(w, id, m, err)
			return
		}
	}
	b = append(b, `,"hints":{"metrics":{"serverTime":`...)
	b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
	b = append(b, "}}}"...)
	*buf = b
	hd := w.Header()
	hd["Content-Type"] = jsonContentType
	hd["Cache-Control"] = noStore
	_, _ = w.Write(b)
}

var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store, no-cache, must-revalidate"}
)

// encodingFailed answers a result that has no JSON form: internal, with
// the details in the log only.
func (h *Handler) encodingFailed(w http.ResponseWriter, id string, m *methodEntry, err error) {
	h.log.Error("result not encodable as JSON", "service", m.svc.qualified, "method", m.desc.Name, "error", err)
	writeError(w, id, invocationError(netron.NewError(netron.CodeInternal, errors.New("internal error"))), false)
}

// batchRequest is the body of POST /netron/batch (NETRON-WIRE.md §11.5).
type batchRequest struct {
	ID       *string           `json:"id"`
	Requests []json.RawMessage `json:"requests"`
	Options  *struct {
		Parallel       *bool `json:"parallel"`
		StopOnError    bool  `json:"stopOnError"`
		MaxConcurrency int   `json:"maxConcurrency"`
	} `json:"options"`
}

// maxBatchConcurrency bounds the requests of a parallel batch run at once
// (a batch's maxConcurrency may only lower it).
const maxBatchConcurrency = 16

// serveBatch answers POST /netron/batch: always 200 with one response per
// request run, in request order, unless the batch is refused whole (not
// JSON, malformed, more requests than the limit of WithMaxBatchSize).
func (h *Handler) serveBatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, held, aerr := h.readBody(w, r)
	if aerr != nil {
		writeError(w, requestID(r), aerr, true)
		return
	}
	// The requests copied from it and their arguments are held until the
	// last call returns.
	defer h.bodies.release(held)
	invalid := func() {
		writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid batch request format"), true)
	}
	var q batchRequest
	if err := json.Unmarshal(body, &q); err != nil {
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			writeError(w, requestID(r), requestError(netron.CodeInvalidArgument, http.StatusBadRequest, "Invalid JSON: "+jsonProblem(err)), true)
			return
		}
		invalid()
		return
	}
	if q.ID == nil || q.Requests == nil {
		invalid()
		return
	}
	if len(q.Requests) > h.cfg.maxBatch {
		// Refused whole, before any request runs: the answer holds one
		// response per request, so the limit bounds its size too.
		writeError(w, requestID(r), requestError(netron.CodeResourceExhausted, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Batch too large: %d requests exceed the limit of %d requests per batch (http.maxBatch, WithMaxBatchSize)",
				len(q.Requests), h.cfg.maxBatch)), true)
		return
	}
	reqs := make([]invokeRequest, len(q.Requests))
	for i, raw := range q.Requests {
		if reqs[i] = parseInvoke(raw); !reqs[i].valid() {
			invalid()
			return
		}
	}
	parallel, stopOnError, concurrency := true, false, maxBatchConcurrency
	if o := q.Options; o != nil {
		if o.Parallel != nil {
			parallel = *o.Parallel
		}
		stopOnError = o.StopOnError
		// A client may ask for fewer at a time, never for more: the
		// bound is the server's (NETRON-WIRE.md §11.5 has the original
		// ignore the option).
		if o.MaxConcurrency > 0 {
			concurrency = min(o.MaxConcurrency, maxBatchConcurrency)
		}
	}
	// The answer is one message: its responses together take at most
	// what one may (netron's maxFrameSize), as a drained stream's array
	// does, not that much each.
	limit := h.n.Config().MaxFrameSize
	var room atomic.Int64
	room.Store(int64(limit))
	// Its requests together take at most the gateway's timeout, however
	// many there are and however they are run.
	clock := &batchClock{limit: h.cfg.timeout}
	out := make([][]byte, len(reqs))
	ok := make([]bool, len(reqs))
	if parallel {
		var wg sync.WaitGroup
		sem := make(chan struct{}, concurrency)
		for i := range reqs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				out[i], ok[i] = h.batchItem(r, &reqs[i], &room, limit, clock)
			})
		}
		wg.Wait()
	} else {
		for i := range reqs {
			out[i], ok[i] = h.batchItem(r, &reqs[i], &room, limit, clock)
			if !ok[i] && stopOnError {
				break
			}
		}
	}
	b := append([]byte(nil), `{"id":`...)
	b = protocol.AppendJSONString(b, *q.ID)
	b = append(b, `,"responses":[`...)
	succeeded, failed, n := 0, 0, 0
	for i, item := range out {
		if item == nil {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, item...)
		if ok[i] {
			succeeded++
		} else {
			failed++
		}
	}
	b = append(b, `],"hints":{"successCount":`...)
	b = strconv.AppendInt(b, int64(succeeded), 10)
	b = append(b, `,"failureCount":`...)
	b = strconv.AppendInt(b, int64(failed), 10)
	b = append(b, `,"totalTime":`...)
	b = strconv.AppendInt(b, time.Since(start).Milliseconds(), 10)
	b = append(b, "}}"...)
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(b)
}

// batchItem runs one request of a batch and returns its response object.
// Unlike the original, every item goes through the same path as
// /netron/invoke: interceptors (auth) and contract validation apply
// (NETRON-WIRE.md §11.5, quirk). A response that succeeds takes its bytes
// from room, what is left of the batch answer's limit; one that does not
// fit fails with batchTooLarge. Each runs within what is left of the
// batch's time (clock); one that would start past it fails without
// running. One that panics (the app's Access, asked
// for what a not_found error lists, outside the engine's recover) fails
// internal, the panic logged with its stack: the requests of a parallel
// batch run on goroutines of their own, where a panic would end the
// process.
func (h *Handler) batchItem(r *http.Request, q *invokeRequest, room *atomic.Int64, limit int, clock *batchClock) (item []byte, ok bool) {
	fail := func(e *apiError) ([]byte, bool) {
		b := append([]byte(nil), `{"id":`...)
		b = protocol.AppendJSONString(b, q.ID)
		b = append(b, `,"success":false,"error":`...)
		b = appendErrorObject(b, e, false)
		return append(b, '}'), false
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("serving a request of a batch panicked", "service", clip(q.Service), "method", clip(q.Method), "remote", r.RemoteAddr,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			item, ok = fail(invocationError(netron.Errorf(netron.CodeInternal, "internal error")))
		}
	}()
	s, m := h.routes.lookup(q.Service, q.Method)
	if m == nil {
		if titanPeer(r) {
			return fail(h.notFoundError(r.Context(), s, q.Service, q.Method, true))
		}
		return fail(requestError(netron.CodeNotFound, http.StatusNotFound, "Method not found: "+clip(q.Service)+"."+clip(q.Method)))
	}
	args, _, aerr := argsFromJSON(q.Input)
	if aerr != nil {
		return fail(aerr)
	}
	timeout, cut := clock.timeout(q.timeout(h.cfg.timeout))
	if timeout <= 0 {
		return fail(requestError(netron.CodeDeadlineExceeded, http.StatusRequestTimeout, fmt.Sprintf(
			"Not run: the batch's requests together may take at most %dms (http.timeout, WithTimeout), and that time had passed",
			clock.limit.Milliseconds())))
	}
	ctx, cancel := h.callContext(r, timeout)
	defer cancel()
	left := int(max(room.Load(), 0))
	res, err := h.call(ctx, m, args, metadata(r, q.contextMetadata()), left)
	if err != nil {
		if errors.Is(err, errTooManyBytes) && left < limit {
			return fail(batchTooLarge(limit))
		}
		e := callError(ctx, err, timeout)
		if cut && e.goCode == netron.CodeDeadlineExceeded && errors.Is(ctx.Err(), context.DeadlineExceeded) && !endedByRequest(ctx) {
			e.message = fmt.Sprintf("Request timed out: the batch's requests together may take at most %dms (http.timeout, WithTimeout)",
				clock.limit.Milliseconds())
		}
		return fail(e)
	}
	b := append([]byte(nil), `{"id":`...)
	b = protocol.AppendJSONString(b, q.ID)
	b = append(b, `,"success":true`...)
	if res.hasData {
		b = append(b, `,"data":`...)
		if b, err = res.appendJSON(b); err != nil {
			h.log.Error("result not encodable as JSON", "service", m.svc.qualified, "method", m.desc.Name, "error", err)
			return fail(invocationError(netron.NewError(netron.CodeInternal, errors.New("internal error"))))
		}
	}
	b = append(b, '}')
	if room.Add(-int64(len(b))) < 0 {
		room.Add(int64(len(b)))
		return fail(batchTooLarge(limit))
	}
	return b, true
}

// batchClock is the time of one batch: its requests together take at most
// limit (the gateway's timeout, http.timeout), counted from the start of
// the first, so that a batch run one request at a time cannot hold its
// connection and a worker for its size times the timeout. It is safe for
// concurrent use.
type batchClock struct {
	limit    time.Duration
	once     sync.Once
	deadline time.Time
}

// timeout returns the time a request of the batch starting now may take:
// own, its timeout, or less when the batch's time ends first (cut true);
// none (0 or less) when the batch's time has passed. The batch's time
// ending less than a millisecond (the unit of the messages) before own
// does not cut the request: the requests of a parallel batch start a few
// microseconds apart, and those with the timeout of the first must time
// out as the first does, naming their own timeout.
func (c *batchClock) timeout(own time.Duration) (d time.Duration, cut bool) {
	now := time.Now()
	c.once.Do(func() { c.deadline = now.Add(c.limit) })
	if left := c.deadline.Sub(now); left <= own-time.Millisecond {
		return left, true
	}
	return own, false
}

// batchTooLarge is the error of a batch response that does not fit in what
// is left of the batch answer's limit, limit bytes.
func batchTooLarge(limit int) *apiError {
	return requestError(netron.CodeResourceExhausted, http.StatusRequestEntityTooLarge, fmt.Sprintf(
		"Batch answer too large: its responses would take more than %d bytes of JSON (netron.maxFrameSize); send fewer requests per batch, or those with large results alone",
		limit))
}
