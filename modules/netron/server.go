package netron

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime/debug"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// serveCall serves a CALL request held in call's room (see dispatch) and
// ends it: the request's frame and a pooled Call go back to their pools.
func (c *conn) serveCall(call *Call) {
	defer c.p.n.inflight.Done()
	c.handleRequest(call.srv.pkt, call.srv.payload, call)
	if call.srv.kept { // an argument is a slice of the frame
		session.KeepFrame(call.srv.frame)
	} else {
		session.PutFrame(call.srv.frame) // nothing of a served request outlives it
	}
	if !call.srv.slotFreed {
		c.served.Free()
	}
	call.release()
}

// handleRequest serves one CALL, TASK, GET or SET request; call is the
// CALL's state (its room holds the elements, the decoded arguments and the
// context), nil for other requests.
func (c *conn) handleRequest(pkt protocol.Packet, payload protocol.RawValue, call *Call) {
	var dst []protocol.RawValue
	if call != nil {
		call.limits = c.p.n.limits
		dst = call.srv.elemBuf[:0]
	}
	// The frame is this request's own copy: the elements may alias it.
	elems, err := protocol.SplitArray(payload, dst, c.p.n.limits)
	if err != nil {
		c.badRequest(pkt, Errorf(CodeInvalidArgument, "Invalid request payload: want an array (%v)", err))
		return
	}
	switch pkt.Type {
	case protocol.TypeCall:
		c.handleCall(pkt, call, elems)
	case protocol.TypeTask:
		c.handleTask(pkt, elems)
	default:
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeUnimplemented,
			"%s is not supported: Titan services expose methods only (no properties)", pkt.Type))
	}
}

// badRequest logs and answers a request whose payload has the wrong shape
// (NETRON-WIRE.md §5.7).
func (c *conn) badRequest(pkt protocol.Packet, err *Error) {
	c.logBad("rejected a malformed request", "id", pkt.ID, "type", pkt.Type, "error", err.Message())
	c.replyError(pkt.ID, pkt.Type, err)
}

func (c *conn) handleCall(pkt protocol.Packet, call *Call, elems []protocol.RawValue) {
	n := c.p.n
	hasHeader := pkt.Live && c.ext.Load()
	need := 2
	if hasHeader {
		need = 3
	}
	if len(elems) < need {
		c.badRequest(pkt, Errorf(CodeInvalidArgument, "Invalid request payload: want [definitionId, method, ...args]"))
		return
	}
	defIDb, ok := rawString(elems[0])
	if !ok {
		c.badRequest(pkt, Errorf(CodeInvalidArgument, "Definition ID must be a string"))
		return
	}
	nameb, ok := rawString(elems[1])
	if !ok || !validMethodName(nameb) {
		err := Errorf(CodeInvalidArgument, "Invalid method name")
		svc, ferr := n.findService(string(defIDb))
		if ok && c.ext.Load() { // a Go peer: Titan's message, naming it
			service := string(defIDb)
			if ferr == nil {
				service = svc.qualified // not its definition id
			}
			err = invalidMethodName(service, string(nameb))
		}
		observed := "" // the observers get no name the caller made up
		if ferr == nil && svc.exposedOn(c.p.scheme) {
			observed = svc.qualified
		}
		n.callRefused(observed, c.p.Transport(), CodeInvalidArgument)
		c.replyError(pkt.ID, pkt.Type, err)
		return
	}
	hdr := &call.srv.hdr
	if hasHeader {
		if err := hdr.DecodeInterned(elems[2], n.limits, c.strs); err != nil {
			c.replyError(pkt.ID, pkt.Type, Errorf(CodeInvalidArgument, "Invalid call header: %v", err))
			return
		}
	}
	svc := n.serviceByName(defIDb) // no allocation on the hot path
	var err error
	if svc == nil {
		svc, err = n.findService(string(defIDb))
	}
	if err == nil && !svc.exposedOn(c.p.scheme) {
		svc, err = nil, notFound("Service", string(defIDb), "Service with id "+clip(string(defIDb))+" not found")
	}
	if err != nil {
		if c.ext.Load() && svc == nil && !looksLikeUUID(string(defIDb)) {
			// A Go peer: Titan's message. An unknown definition id keeps
			// the original's, which clients take for a stale id.
			err = ServiceNotFound(string(defIDb), n.visibleServices(withPeer(context.Background(), c.p), c.p.scheme))
		}
		if CodeOf(err) == CodeNotFound {
			n.callRefused("", c.p.Transport(), CodeNotFound)
		}
		c.replyError(pkt.ID, pkt.Type, err)
		return
	}
	m := svc.methods[string(nameb)]
	if m == nil {
		n.callRefused(svc.qualified, c.p.Transport(), CodeNotFound)
		c.replyError(pkt.ID, pkt.Type, c.methodNotFound(svc, string(nameb)))
		return
	}

	call.Service, call.Method, call.Peer, call.Metadata = svc.qualified, m.name, c.p, hdr.Metadata
	call.svc, call.m, call.raw, call.identity = svc, m, elems[need:], c.p.n.identity
	cc := &call.srv.cctx
	if call.pooledS != nil { // the method may keep its context: not pooled
		cc = new(callCtx)
	}
	cc.peer, cc.call, cc.md = c.p, call, hdr.Metadata
	if !c.served.Track(pkt.ID, cc) {
		cc.cancel() // the connection has ended
	}
	defer endServed(c.served, pkt.ID, cc)
	var ctx context.Context = cc
	if hdr.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, msDuration(hdr.Timeout))
		defer cancel()
	}

	if m.kind == kindStream {
		call.pooledS = nil // a stream's Call is not worth the care
		c.serveStream(ctx, pkt, call)
		return
	}
	result, err := n.unary(ctx, call)
	if err != nil {
		c.replyError(pkt.ID, pkt.Type, err)
		return
	}
	if m.kind == kindVoid {
		result = protocol.Undefined{}
	}
	c.reply(pkt.ID, pkt.Type, result)
}

// invalidMethodName is Titan's error for a call of service whose method
// name breaks the wire rule (NETRON-WIRE.md §5.3); TypeScript peers get
// the original's "Invalid method name", which names neither.
func invalidMethodName(service, method string) *Error {
	return Errorf(CodeInvalidArgument, "invalid method name %s for %s: a method name is 1 to 255 letters, digits, _ or $, and does not start with a digit",
		echo(method), clip(service))
}

// methodNotFound is the error of a call to a method svc lacks: Titan's
// message for a Go peer, the original's (NETRON-WIRE.md §5.6) for others.
func (c *conn) methodNotFound(svc *service, name string) *Error {
	if c.ext.Load() {
		return MethodNotFound(svc.qualified, name, c.p.n.visibleMethods(withPeer(context.Background(), c.p), svc))
	}
	what := "Method '" + svc.qualified + "." + clip(name) + "'"
	return NewError(CodeNotFound, errors.New(what+" not found")).
		WithDetails(protocol.Object{{Key: "resource", Value: what}, {Key: "id", Value: protocol.Undefined{}}})
}

// exposedOn reports whether the service is reachable through listeners of
// the scheme; dialled connections (scheme "") always reach it.
func (s *service) exposedOn(scheme string) bool {
	if len(s.transports) == 0 || scheme == "" {
		return true
	}
	for _, t := range s.transports {
		if t == scheme {
			return true
		}
	}
	return false
}

// decodeArgs decodes the encoded arguments into the method's Go types,
// after room for the receiver and the context (see invoke).
func (call *Call) decodeArgs() ([]reflect.Value, error) {
	m := call.m
	if err := call.checkArity(); err != nil {
		return nil, err
	}
	if call.srv == nil { // a Call made outside handleRequest
		call.srv = new(serverRoom)
	}
	in := call.srv.inBuf[:0]
	if len(m.args)+2 > len(call.srv.inBuf) {
		in = make([]reflect.Value, 0, len(m.args)+2)
	}
	in = append(in, m.recv, reflect.Value{})
	for i, t := range m.args {
		pv := call.srv.slots.new(t)
		if err := call.unmarshalArg(call.raw[i], pv.Interface()); err != nil {
			return nil, call.argError(i, err)
		}
		in = append(in, pv.Elem())
	}
	call.in = in
	return in, nil
}

// unmarshalArg decodes an encoded argument into v: from a request's own
// frame (srv.lent) a long binary value is a slice of the frame, which is
// then kept (see unmarshalFrom).
func (call *Call) unmarshalArg(raw protocol.RawValue, v any) error {
	kept, err := unmarshalFrom(raw, v, call.limits, call.srv.lent)
	if kept {
		call.srv.kept = true
	}
	return err
}

// argSlots is room in a Call for scalar arguments, so that decoding them
// allocates nothing but their contents.
type argSlots struct {
	s    [2]string
	n    [2]int
	i    [2]int64
	f    [2]float64
	b    [2]bool
	used [5]uint8 // slots taken, per kind: s, n, i, f, b
}

// new returns a pointer to a zero value of t: a slot of the Call for
// scalar kinds while free ones remain, else a fresh allocation.
func (a *argSlots) new(t reflect.Type) reflect.Value {
	var p reflect.Value
	switch k := t.Kind(); {
	case k == reflect.String && a.used[0] < uint8(len(a.s)):
		p = reflect.ValueOf(&a.s[a.used[0]])
		a.used[0]++
	case k == reflect.Int && a.used[1] < uint8(len(a.n)):
		p = reflect.ValueOf(&a.n[a.used[1]])
		a.used[1]++
	case k == reflect.Int64 && a.used[2] < uint8(len(a.i)):
		p = reflect.ValueOf(&a.i[a.used[2]])
		a.used[2]++
	case k == reflect.Float64 && a.used[3] < uint8(len(a.f)):
		p = reflect.ValueOf(&a.f[a.used[3]])
		a.used[3]++
	case k == reflect.Bool && a.used[4] < uint8(len(a.b)):
		p = reflect.ValueOf(&a.b[a.used[4]])
		a.used[4]++
	default:
		return reflect.New(t)
	}
	if p.Type().Elem() != t {
		// A named type of the kind (type Celsius float64): a pointer to
		// the slot converts to a pointer to it.
		p = p.Convert(reflect.PointerTo(t))
	}
	return p
}

// invoke calls the method with ctx and the decoded arguments, turning a
// panic into an internal error.
func (call *Call) invoke(ctx context.Context, args []reflect.Value) (out []reflect.Value, err error) {
	defer call.recoverPanic(ctx, &err)
	// The context goes in through an interface-typed slot of the Call, so
	// that reflect passes it without boxing it again.
	call.srv.ctxArg = ctx
	args[1] = reflect.ValueOf(&call.srv.ctxArg).Elem() // decodeArgs left the room
	return call.m.fn.Call(args), nil
}

// recoverPanic, deferred around a method call, turns a panic into an
// internal error (the details go to the log, not to the caller).
func (call *Call) recoverPanic(ctx context.Context, err *error) {
	if r := recover(); r != nil {
		log := call.log
		if p := PeerFromContext(ctx); p != nil {
			log = p.log
		}
		if log != nil {
			log.Error("method panicked", "service", call.Service, "method", call.Method,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		*err = NewError(CodeInternal, errors.New(internalMessage))
	}
}

// invokeUnary is the innermost unary handler: decode, call the method.
func invokeUnary(ctx context.Context, call *Call) (any, error) {
	if call.m.fast != nil {
		return call.m.fast(ctx, call)
	}
	args, err := call.decodeArgs()
	if err != nil {
		return nil, err
	}
	out, err := call.invoke(ctx, args)
	if err != nil {
		return nil, err
	}
	errV := out[len(out)-1]
	if !errV.IsNil() {
		return nil, errV.Interface().(error)
	}
	if call.m.kind == kindVoid {
		return nil, nil
	}
	return out[0].Interface(), nil
}

// invokeStream is the innermost stream handler: decode, call the method,
// and adapt its iter.Seq2[T, error] to iter.Seq2[any, error].
func invokeStream(ctx context.Context, call *Call) (iter.Seq2[any, error], error) {
	if call.m.fastStream != nil {
		return call.m.fastStream(ctx, call)
	}
	args, err := call.decodeArgs()
	if err != nil {
		return nil, err
	}
	out, err := call.invoke(ctx, args)
	if err != nil {
		return nil, err
	}
	seq := out[0]
	if seq.IsNil() {
		return func(func(any, error) bool) {}, nil
	}
	if fast := directSeq(seq.Interface()); fast != nil {
		return fast, nil
	}
	yieldType := seq.Type().In(0)
	return func(yield func(any, error) bool) {
		// reflect copies the results out at once: one slice serves every
		// item of the stream.
		res := []reflect.Value{{}}
		fn := reflect.MakeFunc(yieldType, func(a []reflect.Value) []reflect.Value {
			var err error
			if !a[1].IsNil() {
				err = a[1].Interface().(error)
			}
			res[0] = reflect.ValueOf(yield(a[0].Interface(), err))
			return res
		})
		seq.Call([]reflect.Value{fn})
	}, nil
}

// rawString returns the bytes of an encoded MessagePack string without
// copying them, or false when raw is not exactly one string.
func rawString(raw protocol.RawValue) ([]byte, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var n, off int
	switch c := raw[0]; {
	case c >= 0xa0 && c <= 0xbf:
		n, off = int(c&0x1f), 1
	case c == 0xd9 && len(raw) >= 2:
		n, off = int(raw[1]), 2
	case c == 0xda && len(raw) >= 3:
		n, off = int(raw[1])<<8|int(raw[2]), 3
	case c == 0xdb && len(raw) >= 5:
		n, off = int(raw[1])<<24|int(raw[2])<<16|int(raw[3])<<8|int(raw[4]), 5
	default:
		return nil, false
	}
	if off+n != len(raw) {
		return nil, false
	}
	return raw[off:], true
}

// serviceByName finds a service by its exact qualified name without
// allocating; nil otherwise (definition ids and misses go to findService).
func (n *Netron) serviceByName(b []byte) *service {
	n.mu.RLock()
	s := n.services[string(b)]
	n.mu.RUnlock()
	return s
}

// jsonTypeName names the JSON type a Go type takes.
func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

// directSeq adapts the iterators of common item types without reflection
// per item; nil for other types (the reflective path handles those).
func directSeq(v any) iter.Seq2[any, error] {
	switch s := v.(type) {
	case iter.Seq2[any, error]:
		return s
	case iter.Seq2[string, error]:
		return anySeq(s)
	case iter.Seq2[int, error]:
		return anySeq(s)
	case iter.Seq2[int64, error]:
		return anySeq(s)
	case iter.Seq2[float64, error]:
		return anySeq(s)
	case iter.Seq2[bool, error]:
		return anySeq(s)
	case iter.Seq2[[]byte, error]:
		return anySeq(s)
	case iter.Seq2[map[string]any, error]:
		return anySeq(s)
	}
	return nil
}

func anySeq[T any](s iter.Seq2[T, error]) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		for v, err := range s {
			if !yield(v, err) {
				return
			}
		}
	}
}

// endServed ends a served call: out of the connection's table (its Call
// forgotten under the table's lock, for Stop's report of running calls),
// its context cancelled.
func endServed(s *session.Served[*callCtx], id uint32, cc *callCtx) {
	s.Untrack(id, cc, forgetCall)
	cc.cancel()
}

func forgetCall(cc *callCtx) { cc.call = nil }
