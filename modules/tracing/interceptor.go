package tracing

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/titanframework/titan/modules/netron"
)

// ScopeName is the instrumentation scope of the spans an [Interceptor]
// makes.
const ScopeName = "github.com/titanframework/titan/modules/tracing"

// The attributes of the spans an [Interceptor] makes.
const (
	// SystemKey is rpc.system, always "netron".
	SystemKey = attribute.Key("rpc.system")
	// ServiceKey is rpc.service: the qualified service name
	// ("calculator@1.0.0"), or the target as the caller gave it.
	ServiceKey = attribute.Key("rpc.service")
	// MethodKey is rpc.method: the method's wire name ("add").
	MethodKey = attribute.Key("rpc.method")
	// TransportKey is netron.transport: the transport the call goes
	// over ("tcp", "ws", "http", "nats", ...; [netron.Call.Transport]),
	// when known.
	TransportKey = attribute.Key("netron.transport")
	// CodeKey is rpc.response.status_code: the name of the call's
	// [netron.Code] ("ok", "not_found", ...).
	CodeKey = attribute.Key("rpc.response.status_code")
)

// The metadata keys of the W3C trace context.
const (
	traceparentKey = "traceparent"
	tracestateKey  = "tracestate"
)

var (
	systemAttr  = SystemKey.String("netron")
	clientStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	serverStart = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}
	// errStopped ends the span of a stream its reader left before the end.
	errStopped = netron.NewError(netron.CodeCanceled, errors.New("the reader stopped the stream"))
	// errPanicked ends the span of a call that panicked in the chain
	// inside the Interceptor.
	errPanicked = netron.NewError(netron.CodeInternal, errors.New("the call panicked"))
)

// Interceptor traces the calls a Netron serves and makes: a server span
// per served call or stream, a client span per call or stream made, named
// "<service>/<method>", with the attributes rpc.system ("netron"),
// rpc.service, rpc.method, netron.transport and rpc.response.status_code.
//
// The trace context travels in the call's metadata as W3C traceparent and
// tracestate: in the call header between Go peers, in HTTP headers, in
// the NATS message's metadata header. Peers that carry no metadata (a
// TypeScript Netron) are called and served as before; their calls start
// new traces. A call made while its context carries a span (the served
// call's, in a method that calls onward) is that span's child.
//
// A served call's error carries the ids of its span to the caller
// ([netron.WithTrace]: the TitanError's traceId and spanId), and the
// method's context carries the span (for its onward calls, and for the
// trace_id and span_id of what it logs).
//
// Work is kept to what the sampling decision needs: attributes are built
// only for recorded spans, and the trace context is sent only for sampled
// spans or spans of a trace that came from elsewhere (whose unsampled
// decision the next peer must follow); an unsampled new trace sends
// nothing.
//
// An Interceptor keeps no Call past its call ([netron.CallBorrower]) and
// sits outermost in an app's chain ([netron.Positioned], -300). It is safe
// for concurrent use.
type Interceptor struct {
	tracer trace.Tracer
	// passOnly: the tracer is a no-op one; no span is started, the
	// caller's trace context is passed on as it came.
	passOnly bool
	// noRoots: tp's sampler never samples a new trace (WithRootRatio(0));
	// a call that comes without a trace gets no span.
	noRoots bool
	names   spanNames
	prop    propagation.TraceContext
}

var (
	_ netron.CallBorrower = (*Interceptor)(nil)
	_ netron.Positioned   = (*Interceptor)(nil)
)

// NewInterceptor returns an Interceptor whose spans come from tp's tracer
// named [ScopeName]. A nil tp means go.opentelemetry.io/otel/trace/noop's
// provider; with that provider the Interceptor makes no spans, and only
// passes a caller's trace context on to the calls its methods make.
func NewInterceptor(tp trace.TracerProvider, opts ...Option) *Interceptor {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	tracer := tp.Tracer(ScopeName)
	_, passOnly := tracer.(noop.Tracer)
	ic := &Interceptor{tracer: tracer, passOnly: passOnly}
	for _, o := range opts {
		o.apply(ic)
	}
	return ic
}

// Option configures an [Interceptor].
type Option interface {
	apply(*Interceptor)
	String() string
}

type option struct {
	desc string
	fn   func(*Interceptor)
}

func (o option) apply(ic *Interceptor) { o.fn(ic) }
func (o option) String() string        { return o.desc }

// WithRootRatio tells the Interceptor the ratio at which the provider's
// sampler samples new traces, as [Sampler](ratio) does (the module gives
// tracing.ratio). At 0 a call that comes without a trace (none in its
// context on the calling side, no traceparent on the serving side) gets
// no span at all: its span would be neither recorded nor sent on, so
// starting one would only cost time. Such a call's errors and log records
// then carry no trace ids. Calls of traces that came from elsewhere are
// followed as before.
func WithRootRatio(ratio float64) Option {
	return option{fmt.Sprintf("WithRootRatio(%v)", ratio), func(ic *Interceptor) { ic.noRoots = !(ratio > 0) }} // NaN as 0, as Sampler takes it
}

// Position implements [netron.Positioned]: -300, outermost, so that its
// span covers every other interceptor (metrics, security, ...).
func (*Interceptor) Position() int { return -300 }

// BorrowsCalls implements [netron.CallBorrower].
func (*Interceptor) BorrowsCalls() {}

// WrapUnary implements [netron.Interceptor]: a call that panics inside
// it (in an interceptor nearer the method) ends its span internal.
func (ic *Interceptor) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if call.IsClient() {
			ctx, span := ic.startClient(ctx, call)
			returned := false
			defer func() {
				if !returned {
					endClient(span, errPanicked)
				}
			}()
			res, err := next(ctx, call)
			returned = true
			endClient(span, err)
			return res, err
		}
		ctx, span := ic.startServer(ctx, call)
		returned := false
		defer func() {
			if !returned {
				endServer(ctx, span, errPanicked)
			}
		}()
		res, err := next(ctx, call)
		returned = true
		return res, endServer(ctx, span, err)
	}
}

// WrapStreamingClient implements [netron.Interceptor]: the client span
// ends when the stream does.
func (ic *Interceptor) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		ctx, span := ic.startClient(ctx, call)
		opened := false
		defer func() {
			if !opened { // it panicked inside
				endClient(span, errPanicked)
			}
		}()
		s, err := next(ctx, call)
		opened = true
		if err != nil {
			endClient(span, err)
			return nil, err
		}
		s.OnEnd(func(err error) { endClient(span, err) })
		return s, nil
	}
}

// WrapStreamingHandler implements [netron.Interceptor]: the server span
// ends when the items do.
func (ic *Interceptor) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return func(ctx context.Context, call *netron.Call) (iter.Seq2[any, error], error) {
		ctx, span := ic.startServer(ctx, call)
		opened := false
		defer func() {
			if !opened { // it panicked inside: the engine answers internal
				endServer(ctx, span, errPanicked)
			}
		}()
		seq, err := next(ctx, call)
		opened = true
		if err != nil {
			return nil, endServer(ctx, span, err)
		}
		return func(yield func(any, error) bool) {
			ended := false
			defer func() {
				if !ended { // the method panicked
					endServer(ctx, span, netron.NewError(netron.CodeInternal, errors.New("the stream panicked")))
				}
			}()
			for v, err := range seq {
				if err != nil {
					ended = true
					yield(nil, endServer(ctx, span, err))
					return
				}
				if !yield(v, nil) {
					ended = true
					endServer(ctx, span, stoppedBecause(ctx))
					return
				}
			}
			ended = true
			// An iterator that returns because its context ended (the
			// usual way to honour it) was stopped too.
			var err error
			if ctx.Err() != nil {
				err = stoppedBecause(ctx)
			}
			endServer(ctx, span, err)
		}, nil
	}
}

// stoppedBecause is why the engine stopped a stream it served (a yield
// returned false): the cause of its context, or errStopped.
func stoppedBecause(ctx context.Context) error {
	if ctx.Err() != nil {
		if err := context.Cause(ctx); err != nil {
			return err
		}
	}
	return errStopped
}

// startClient starts the span of a call being made and puts its trace
// context into the call's metadata. The span is nil when only passing
// the context on (passOnly).
func (ic *Interceptor) startClient(ctx context.Context, call *netron.Call) (context.Context, trace.Span) {
	parent := trace.SpanContextFromContext(ctx)
	if ic.passOnly || ic.noRoots && !parent.IsValid() {
		if parent.IsValid() {
			ic.inject(ctx, call)
		}
		return ctx, nil
	}
	ctx, span := ic.tracer.Start(ctx, ic.names.of(call), clientStart...)
	if span.IsRecording() {
		setAttributes(span, call)
	}
	if sc := span.SpanContext(); sc.IsValid() && (sc.IsSampled() || parent.IsValid()) {
		ic.inject(ctx, call)
	}
	return ctx, span
}

// inject puts the trace context of ctx into the call's metadata.
func (ic *Interceptor) inject(ctx context.Context, call *netron.Call) {
	// Copy on write: the map may be shared (another interceptor's, the
	// caller's).
	md := make(map[string]string, len(call.Metadata)+1)
	maps.Copy(md, call.Metadata)
	delete(md, tracestateKey) // the new context's, if any, replaces it
	ic.prop.Inject(ctx, propagation.MapCarrier(md))
	call.Metadata = md
}

// startServer starts the span of a call being served, the child of the
// caller's span when its metadata carries one. The span is nil when only
// passing the context on (passOnly).
func (ic *Interceptor) startServer(ctx context.Context, call *netron.Call) (context.Context, trace.Span) {
	if call.Metadata[traceparentKey] != "" {
		ctx = ic.prop.Extract(ctx, propagation.MapCarrier(call.Metadata))
	}
	if ic.noRoots && !trace.SpanContextFromContext(ctx).IsValid() { // no trace, or a malformed traceparent
		return ctx, nil
	}
	if ic.passOnly {
		return ctx, nil
	}
	ctx, span := ic.tracer.Start(ctx, ic.names.of(call), serverStart...)
	if span.IsRecording() {
		setAttributes(span, call)
	}
	return ctx, span
}

// setAttributes sets the attributes of a recorded span.
func setAttributes(span trace.Span, call *netron.Call) {
	attrs := [4]attribute.KeyValue{systemAttr, ServiceKey.String(validUTF8(call.Service)), MethodKey.String(validUTF8(call.Method))}
	n := 3
	if t := call.Transport(); t != "" {
		attrs[n] = TransportKey.String(t)
		n++
	}
	span.SetAttributes(attrs[:n]...)
}

// validUTF8 returns s with its bytes that are not UTF-8 replaced: a
// span's strings are sent as protobuf strings, and one that is not UTF-8
// fails the export of its whole batch. The names of the calls made and
// the messages of a method's errors can hold any bytes.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// endClient ends the span of a call made, if any: an error status for
// every failure but a cancellation (the caller's own doing).
func endClient(span trace.Span, err error) {
	if span == nil {
		return
	}
	if span.IsRecording() {
		span.SetAttributes(CodeKey.String(codeName(err)))
		if err != nil && netron.CodeOf(err) != netron.CodeCanceled {
			span.SetStatus(codes.Error, validUTF8(err.Error()))
		}
	}
	span.End()
}

// endServer ends the span of a served call, if any, and returns its error
// with the ids of the span in ctx ([netron.WithTrace]): the served call's,
// or the caller's when only passing the context on. A span's status is an
// error for the codes that tell of a server's fault (unknown, internal,
// unavailable, ...), not for those that tell of the caller's
// (invalid_argument, not_found, ...).
func endServer(ctx context.Context, span trace.Span, err error) error {
	if span != nil {
		if span.IsRecording() {
			span.SetAttributes(CodeKey.String(codeName(err)))
			if err != nil && serverFault(netron.CodeOf(err)) {
				span.SetStatus(codes.Error, validUTF8(err.Error()))
			}
		}
		span.End()
	}
	if err != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			err = netron.WithTrace(err, sc.TraceID().String(), sc.SpanID().String())
		}
	}
	return err
}

// codeName is the name of err's code, "ok" for no error.
func codeName(err error) string {
	if err == nil {
		return "ok"
	}
	return netron.CodeOf(err).String()
}

// serverFault reports the codes that mark a served call's span as failed.
func serverFault(c netron.Code) bool {
	switch c {
	case netron.CodeUnknown, netron.CodeDeadlineExceeded, netron.CodeUnimplemented,
		netron.CodeInternal, netron.CodeUnavailable, netron.CodeDataLoss:
		return true
	}
	return false
}
