package netron

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"reflect"
	"runtime/debug"
	"sync"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Call describes one call as interceptors see it, on the serving side (the
// method is local) and on the calling side.
type Call struct {
	// Service is the qualified name of the service ("calculator@1.0.0").
	// On the calling side it is the target as given when it is not exact.
	Service string
	// Method is the wire name of the method.
	Method string
	// Peer is the other side of the connection; nil for an in-process call.
	Peer *Peer
	// Metadata is the caller's metadata (Go peers and gateways; nil
	// otherwise). On the serving side the map must not be modified: the
	// calls of a connection that sent the same metadata share one map. An
	// interceptor that changes the metadata sets a changed copy.
	Metadata map[string]string

	transport string // a gateway's call: Invocation.Transport (see Transport)
	// log is where a gateway's call, which has no peer, logs its method's
	// panic (see recoverPanic); a connection's call logs it to its peer's.
	log *slog.Logger

	client   bool
	identity IdentityFunc // the Netron's (see Identity)
	svc      *service
	m        *method
	raw      []protocol.RawValue // encoded arguments (serving side)
	args     []any               // Go arguments (calling side)
	in       []reflect.Value     // receiver, context, decoded arguments (serving side)
	json     []any
	jsonOK   bool
	limits   protocol.Limits

	// Room that saves allocations per call, allocated with the Call (see
	// servedCall, clientCall); nil on the side the Call is not on.
	srv     *serverRoom
	cli     *clientRoom
	reached bool // the call reached the method (fast path: arguments not kept)
	// The servedCall or clientCall the Call is part of, set when it goes
	// back to its pool when the call ends.
	pooledS *servedCall
	pooledC *clientCall
}

// serverRoom is the serving side's room: the request, its elements, the
// reflect arguments, the context and header, the scalar arguments.
type serverRoom struct {
	pkt     protocol.Packet
	payload protocol.RawValue
	frame   *[]byte // pool holder of the frame payload aliases
	elemBuf [6]protocol.RawValue
	inBuf   [5]reflect.Value
	cctx    callCtx // the context when the Call is not pooled
	ctxArg  context.Context
	hdr     protocol.CallHeader
	slots   argSlots
	// slotFreed: the request's slot on its connection was given back
	// before the call ended (a stream, once its items may flow).
	slotFreed bool
	// lent: the frame is this request's own, so a decoded argument may
	// keep a long binary value as a slice of it instead of a copy (see
	// Call.unmarshalArg); kept: one did, and the frame does not go back
	// to its pool.
	lent, kept bool
}

// clientRoom is the calling side's room: the arguments and the reply.
type clientRoom struct {
	argBuf [4]any
	reply  Reply
}

// servedCall and clientCall allocate a Call with its room in one piece.
type (
	servedCall struct {
		Call
		serverRoom
	}
	clientCall struct {
		Call
		clientRoom
	}
)

// A Call is pooled only where nothing keeps it past the call: when every
// interceptor of the Netron borrows its Calls (see CallBorrower), for unary
// calls served from a packet or through Invoke, and for CallUnary. Its
// context is not part of it then: a method may keep its context past the
// call.
var servedCalls, clientCalls sync.Pool

// newServedCall returns a serving side's Call with its room, from the pool
// when pooled.
func newServedCall(pooled bool) *Call {
	var sc *servedCall
	if pooled {
		sc, _ = servedCalls.Get().(*servedCall)
	}
	if sc == nil {
		sc = new(servedCall)
	}
	sc.srv = &sc.serverRoom
	if pooled {
		sc.pooledS = sc
	}
	return &sc.Call
}

// newClientCall returns a calling side's Call with its room, from the pool
// when pooled.
func newClientCall(pooled bool) *Call {
	var cc *clientCall
	if pooled {
		cc, _ = clientCalls.Get().(*clientCall)
	}
	if cc == nil {
		cc = new(clientCall)
	}
	cc.cli, cc.client = &cc.clientRoom, true
	if pooled {
		cc.pooledC = cc
	}
	return &cc.Call
}

// release gives a pooled Call back, cleared so that it keeps nothing
// alive; other Calls are left to the garbage collector.
func (c *Call) release() {
	if cc := c.pooledC; cc != nil {
		*cc = clientCall{}
		clientCalls.Put(cc)
	} else if sc := c.pooledS; sc != nil {
		*sc = servedCall{}
		servedCalls.Put(sc)
	}
}

// IsClient reports whether the call is being made (true) or served (false).
func (c *Call) IsClient() bool { return c.client }

// Args returns the Go arguments: on the calling side those passed to Call;
// on the serving side the decoded arguments, available once the call
// reaches the method (nil in interceptors that run before it).
func (c *Call) Args() []any {
	if !c.client && c.args == nil && c.in == nil && c.reached {
		// The fast path decoded into locals: decode again for the asker.
		if _, err := c.decodeArgs(); err != nil {
			return nil
		}
	}
	if c.client || c.args != nil || len(c.in) < 2 {
		return c.args
	}
	c.args = make([]any, len(c.in)-2)
	for i, v := range c.in[2:] {
		c.args[i] = v.Interface()
	}
	return c.args
}

// RawArgs returns the encoded positional arguments (serving side). They
// alias the request's frame, which is reused once the call returns: copy
// what must outlive the call.
func (c *Call) RawArgs() []protocol.RawValue { return c.raw }

// JSONArgs returns the arguments in the JSON value model of
// NETRON-WIRE.md §11.1 (map[string]any, []any, json.Number, ...), decoded
// once and cached.
func (c *Call) JSONArgs() ([]any, error) {
	if c.jsonOK {
		return c.json, nil
	}
	out := make([]any, 0, len(c.raw))
	if c.client {
		for _, a := range c.args {
			v, err := protocol.ToJSON(a)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
	}
	for _, r := range c.raw {
		v, err := protocol.DecodeValue(r, c.limits)
		if err != nil {
			return nil, err
		}
		if v, err = protocol.ToJSON(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	c.json, c.jsonOK = out, true
	return out, nil
}

// UnaryFunc runs a unary (or void) call: on the serving side it returns the
// method's Go result; on the calling side a *Reply.
type UnaryFunc func(ctx context.Context, call *Call) (any, error)

// StreamingHandlerFunc runs a server-streaming call on the serving side and
// returns the items; the iterator ends the call when it returns. The engine
// and the gateways range over every iterator a handler returns exactly
// once, even when the stream can no longer be sent (the connection went
// away first): its first yield then returns false. So an interceptor that
// holds something for the stream (a call slot, a span) gives it back when
// its iterator returns, or at once when it returns an error instead. When
// a yield returns false, ctx is done and [context.Cause] of it says why
// the stream stopped: the reader cancelled it (canceled), stayed idle
// past Config.StreamIdleTimeout (deadline_exceeded), the connection ended,
// or an item could not be sent. A handler returns an iterator or an
// error: one that returns neither ends the call with internal.
type StreamingHandlerFunc func(ctx context.Context, call *Call) (iter.Seq2[any, error], error)

// StreamingClientFunc opens a server stream on the calling side.
type StreamingClientFunc func(ctx context.Context, call *Call) (*Stream, error)

// Interceptor wraps calls, connect-go style. Interceptors given to a
// Netron ([WithInterceptors]) run in the order given, the first one
// outermost, on the calls it serves and on those it makes. The engine
// installs none of its own: contract validation (package validate) and the
// response cache (package cache) are interceptors like any other, written
// against the public call model ([Call], [MethodSpec]); a titan app
// installs them innermost, after its own (titan.Interceptors).
type Interceptor interface {
	WrapUnary(UnaryFunc) UnaryFunc
	WrapStreamingHandler(StreamingHandlerFunc) StreamingHandlerFunc
	WrapStreamingClient(StreamingClientFunc) StreamingClientFunc
}

// CallBorrower is implemented by an interceptor that uses the *Call it is
// given, and what its methods return (Args, RawArgs, JSONArgs, Metadata,
// Spec), only while the call runs: until its wrapped function returns,
// and for a stream until the stream ends. It keeps none of them, nor hands
// them to a goroutine that outlives the call. A Netron whose interceptors
// all borrow their Calls reuses the state of the unary calls it serves and
// makes (one allocation less per call); a single interceptor that does not
// implement it turns the reuse off, so that it may keep the Calls it sees.
// The interceptors of packages validate and cache borrow their Calls.
type CallBorrower interface {
	Interceptor
	// BorrowsCalls marks the interceptor; it is never called.
	BorrowsCalls()
}

// RefusedCallObserver is implemented by an interceptor that counts the
// calls the engine answers before any interceptor runs, with code:
//   - CodeNotFound: a call to a service the Netron does not have (or does
//     not expose on the call's transport), or to a method its service
//     lacks;
//   - CodeInvalidArgument: a call whose method name breaks the wire rule
//     (1 to 255 letters, digits, _ or $, not starting with a digit).
//
// The engine calls CallRefused for each such call, before it answers it,
// over a connection or handed in by a gateway (HTTP, NATS) through
// [Netron.Invoke] and [Netron.InvokeStream]: service is the qualified
// name of the service the call named when the Netron has it and exposes
// it on the transport, else ""; transport is what [Call.Transport] would
// be. The names the caller made up are not given: they are no label for
// a series.
type RefusedCallObserver interface {
	Interceptor
	CallRefused(service, transport string, code Code)
}

// callRefused tells the interceptors that observe them
// (RefusedCallObserver) of a call of service over transport answered
// code before any interceptor ran.
func (n *Netron) callRefused(service, transport string, code Code) {
	for _, ic := range n.interceptors {
		if o, ok := ic.(RefusedCallObserver); ok {
			o.CallRefused(service, transport, code)
		}
	}
}

// borrowsAll reports whether every interceptor of ics borrows its Calls.
func borrowsAll(ics []Interceptor) bool {
	for _, ic := range ics {
		if _, ok := ic.(CallBorrower); !ok {
			return false
		}
	}
	return true
}

// UnaryInterceptorFunc is an Interceptor that wraps unary calls only.
type UnaryInterceptorFunc func(UnaryFunc) UnaryFunc

// WrapUnary implements Interceptor.
func (f UnaryInterceptorFunc) WrapUnary(next UnaryFunc) UnaryFunc { return f(next) }

// WrapStreamingHandler implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingHandler(next StreamingHandlerFunc) StreamingHandlerFunc {
	return next
}

// WrapStreamingClient implements Interceptor by returning next.
func (f UnaryInterceptorFunc) WrapStreamingClient(next StreamingClientFunc) StreamingClientFunc {
	return next
}

func chainUnary(ics []Interceptor, f UnaryFunc) UnaryFunc {
	for i := len(ics) - 1; i >= 0; i-- {
		f = ics[i].WrapUnary(f)
	}
	return f
}

// chainStreamingHandler chains the interceptors' stream handlers around f.
// Each interceptor's next refuses an inner one's (nil, nil) (see
// refuseNoIterator), so that no interceptor is handed a nil iterator to
// wrap and range over; the outermost one's is refused by recoverStreaming.
func chainStreamingHandler(log *slog.Logger, ics []Interceptor, f StreamingHandlerFunc) StreamingHandlerFunc {
	for i := len(ics) - 1; i >= 0; i-- {
		if i < len(ics)-1 {
			f = refuseNoIterator(log, f)
		}
		f = ics[i].WrapStreamingHandler(f)
	}
	return f
}

// refuseNoIterator turns a stream handler's return of neither an iterator
// nor an error (an interceptor's bug: the engine gives none of its own a
// nil iterator) into an internal error, logged.
func refuseNoIterator(log *slog.Logger, next StreamingHandlerFunc) StreamingHandlerFunc {
	return func(ctx context.Context, call *Call) (iter.Seq2[any, error], error) {
		seq, err := next(ctx, call)
		if seq == nil && err == nil {
			log.Error("an interceptor's WrapStreamingHandler returned neither an iterator nor an error",
				"service", call.Service, "method", call.Method)
			return nil, NewError(CodeInternal, errors.New(internalMessage))
		}
		return seq, err
	}
}

// recoverUnary is the outermost handler of the unary calls a Netron
// serves, from any door: a panic in the chain (an interceptor's; the
// method's own is recovered around it, see Call.invoke) ends that call
// with an internal error, logged with its stack, instead of the process
// (the stream transports serve calls on goroutines with no other recover).
func recoverUnary(log *slog.Logger, next UnaryFunc) UnaryFunc {
	return func(ctx context.Context, call *Call) (res any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logChainPanic(log, call, r)
				res, err = nil, NewError(CodeInternal, errors.New(internalMessage))
			}
		}()
		return next(ctx, call)
	}
}

// recoverStreaming is recoverUnary for the opening of a stream; a panic
// of its iterator is recovered where the iterator is ranged over. A chain
// that returns neither an iterator nor an error ends the call with an
// internal error, logged (refuseNoIterator), instead of a panic where it
// is ranged over.
func recoverStreaming(log *slog.Logger, next StreamingHandlerFunc) StreamingHandlerFunc {
	next = refuseNoIterator(log, next)
	return func(ctx context.Context, call *Call) (seq iter.Seq2[any, error], err error) {
		defer func() {
			if r := recover(); r != nil {
				logChainPanic(log, call, r)
				seq, err = nil, NewError(CodeInternal, errors.New(internalMessage))
			}
		}()
		return next(ctx, call)
	}
}

// logChainPanic logs the panic r of the serving chain of call.
func logChainPanic(log *slog.Logger, call *Call, r any) {
	log.Error("call panicked in an interceptor", "service", call.Service, "method", call.Method,
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
}

func chainStreamingClient(ics []Interceptor, f StreamingClientFunc) StreamingClientFunc {
	for i := len(ics) - 1; i >= 0; i-- {
		f = ics[i].WrapStreamingClient(f)
	}
	return f
}
