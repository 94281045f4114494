package netron

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Invocation is a call handed to [Netron.Invoke] by a gateway that has its
// own framing (the HTTP protocol): the same services, contracts,
// interceptors and errors as a call that arrives in a packet.
type Invocation struct {
	// Service is a definition id, an exact qualified name, a range or a
	// bare name.
	Service string
	// Method is the wire name.
	Method string
	// Args are the encoded positional arguments.
	Args []protocol.RawValue
	// Metadata is the caller's metadata (headers), if any.
	Metadata map[string]string
	// Transport is the name of the transport the call came through ("http"),
	// checked against titan.Transports restrictions.
	Transport string
}

// lookup finds the service and method of an invocation. What a not_found
// error lists is what the caller in ctx may see.
func (n *Netron) lookup(ctx context.Context, inv *Invocation) (*service, *method, error) {
	var svc *service
	var err error
	if looksLikeUUID(inv.Service) {
		svc, err = n.findService(inv.Service)
	} else {
		svc, err = n.resolveTarget(inv.Service)
	}
	if err == nil && !svc.exposedOn(inv.Transport) {
		svc, err = nil, errNoService(inv.Service)
	}
	if CodeOf(err) == CodeNotFound && !looksLikeUUID(inv.Service) {
		err = ServiceNotFound(inv.Service, n.visibleServices(ctx, inv.Transport))
	}
	if err != nil {
		if CodeOf(err) == CodeNotFound {
			n.callRefused("", inv.Transport, CodeNotFound)
		}
		return nil, nil, err
	}
	if !validMethodName(inv.Method) {
		n.callRefused(svc.qualified, inv.Transport, CodeInvalidArgument)
		return nil, nil, invalidMethodName(svc.qualified, inv.Method)
	}
	m := svc.methods[inv.Method]
	if m == nil {
		n.callRefused(svc.qualified, inv.Transport, CodeNotFound)
		return nil, nil, MethodNotFound(svc.qualified, inv.Method, n.visibleMethods(ctx, svc))
	}
	return svc, m, nil
}

// Invoke runs a unary or void call on a local service and returns the
// method's Go result (nil for a void method).
func (n *Netron) Invoke(ctx context.Context, inv *Invocation) (any, error) {
	if !n.beginCall() {
		return nil, errDraining
	}
	defer n.inflight.Done()
	svc, m, err := n.lookup(ctx, inv)
	if err != nil {
		return nil, err
	}
	if m.kind == kindStream {
		return nil, Errorf(CodeInvalidArgument, "%s.%s is a stream method", svc.qualified, m.name)
	}
	// As for a call from a packet, the Call is pooled when no interceptor
	// can keep it.
	call := newServedCall(n.poolCalls)
	call.Service, call.Method, call.Metadata, call.transport, call.log = svc.qualified, m.name, inv.Metadata, inv.Transport, n.log
	if len(inv.Metadata) > 0 {
		ctx = context.WithValue(ctx, incomingKey{}, inv.Metadata)
	}
	call.svc, call.m, call.raw, call.limits, call.identity = svc, m, inv.Args, n.limits, n.identity
	res, err := n.unary(ctx, call)
	call.release()
	return res, err
}

// InvokeStream runs a stream call on a local service. The iterator runs the
// method; it ends at the first error, which it yields. It runs once:
// ranged again, it yields a failed_precondition error. The call counts as
// in flight ([Netron.Stop] waits for it) until the iterator has been
// ranged over, or, if it is never ranged, until ctx ends: then the method
// is stopped before its first item, and a later range yields ctx's error.
func (n *Netron) InvokeStream(ctx context.Context, inv *Invocation) (iter.Seq2[any, error], error) {
	svc, m, err := n.lookup(ctx, inv)
	if err != nil {
		return nil, err
	}
	if m.kind != kindStream {
		return nil, Errorf(CodeInvalidArgument, "%s.%s is not a stream method", svc.qualified, m.name)
	}
	call := &Call{Service: svc.qualified, Method: m.name, Metadata: inv.Metadata, transport: inv.Transport,
		svc: svc, m: m, raw: inv.Args, limits: n.limits, identity: n.identity, log: n.log}
	if len(inv.Metadata) > 0 {
		ctx = context.WithValue(ctx, incomingKey{}, inv.Metadata)
	}
	if !n.beginCall() {
		return nil, errDraining
	}
	seq, err := n.streaming(ctx, call)
	if err != nil {
		n.inflight.Done()
		return nil, err
	}
	// state is 0 until the iterator is ranged (1) or released at the end
	// of ctx (2): the call ends, once, by whichever comes first.
	var state atomic.Int32
	stopRelease := context.AfterFunc(ctx, func() {
		if state.CompareAndSwap(0, 2) {
			abandon(seq, n.log, call)
			n.inflight.Done()
		}
	})
	return func(yield func(any, error) bool) {
		if !state.CompareAndSwap(0, 1) {
			if state.Load() == 2 {
				yield(nil, ctxError(ctx))
			} else {
				yield(nil, Errorf(CodeFailedPrecondition, "%s.%s: the iterator of InvokeStream was ranged over already: it runs the method once", call.Service, call.Method))
			}
			return
		}
		stopRelease()
		defer n.inflight.Done()
		defer func() {
			if r := recover(); r != nil {
				n.log.Error("stream panicked", "service", call.Service, "method", call.Method, "panic", fmt.Sprint(r))
				yield(nil, NewError(CodeInternal, errors.New(internalMessage)))
			}
		}()
		for v, err := range seq {
			if !yield(v, err) || err != nil {
				return
			}
		}
	}, nil
}

// MethodDesc describes a public method for gateways and tools (OpenAPI,
// the CLI, a development UI).
type MethodDesc struct {
	// Name is the wire name; GoName the Go method name.
	Name, GoName string
	// Stream reports a server-streaming method; Void a method without a
	// result.
	Stream, Void bool
	// Input and Output are the contract schemas (Output is nil for a void
	// method).
	Input, Output json.RawMessage
	// Arity is the number of positional arguments.
	Arity int
	// ArgTypes and ResultType are the TypeScript-style type names of the
	// arguments and the result that the definition's metadata gives
	// ("Number", "String", "void", ...; "any" for an argument without
	// one): the only types a server without contracts (a TypeScript one)
	// publishes.
	ArgTypes   []string
	ResultType string
}

// ServiceDesc describes a registered service.
type ServiceDesc struct {
	Name, Version, ID string
	// HTTPPath is the path of the service's JSON routes (titan.HTTP), or "".
	//
	// Deprecated: read Extensions["http.path"] (http.PathExtension of
	// modules/netron/http); HTTPPath holds the same until the next minor
	// release.
	HTTPPath string
	// Extensions are the values packages above the engine recorded on the
	// service ([WithExtension]), by key. The map is the Netron's: do not
	// modify it.
	Extensions map[string]any
	// Transports restricts the service to these listeners; nil means all.
	Transports []string
	Methods    []MethodDesc
}

// Describe returns the registered services, sorted by qualified name.
func (n *Netron) Describe() []ServiceDesc {
	n.mu.RLock()
	defer n.mu.RUnlock()
	var out []ServiceDesc
	for _, q := range sortedServiceNames(n.services) {
		out = append(out, n.services[q].describe())
	}
	return out
}

func (s *service) describe() ServiceDesc {
	path, _ := s.extensions["http.path"].(string)
	sd := ServiceDesc{Name: s.name, Version: s.version, ID: s.defID, HTTPPath: path, Extensions: s.extensions, Transports: s.transports}
	for _, name := range s.order {
		m := s.methods[name]
		sd.Methods = append(sd.Methods, MethodDesc{
			Name: m.name, GoName: m.goName, Stream: m.kind == kindStream, Void: m.kind == kindVoid,
			Input: m.inSchema, Output: m.outSchema, Arity: len(m.args),
			ArgTypes: m.argTypes(), ResultType: m.resultType(),
		})
	}
	return sd
}

// ServiceWatcher is a [Gateway] that serves services it has been told of,
// such as one that subscribes a subject per service (NATS): Listen tells
// it of the services registered so far once it has started, and Register
// of each one registered later. ServiceAdded may be told of a service more
// than once.
type ServiceWatcher interface {
	ServiceAdded(ctx context.Context, d ServiceDesc) error
}

// tellWatchers tells the gateways among gws that watch services of ds; a
// gateway that cannot serve one is logged (the service is registered and
// served elsewhere).
func (n *Netron) tellWatchers(gws []Gateway, ds ...ServiceDesc) {
	for _, g := range gws {
		w, ok := g.(ServiceWatcher)
		if !ok {
			continue
		}
		for _, d := range ds {
			if err := w.ServiceAdded(context.Background(), d); err != nil {
				n.log.Error("a gateway cannot serve a service", "addr", g.Addr(), "service", QualifiedName(d.Name, d.Version), "error", err)
			}
		}
	}
}

// Gateway serves a Netron's services over a protocol with its own framing
// (HTTP), started by [Netron.Listen] for the gateway's URL schemes.
type Gateway interface {
	// Addr returns the bound address as a URL.
	Addr() string
	// Shutdown stops accepting requests and waits for those in flight until
	// ctx ends; requests arriving meanwhile are refused.
	Shutdown(ctx context.Context) error
}

// GatewayFactory starts a gateway for the engine e on the address u.
type GatewayFactory func(ctx context.Context, e Engine, u *url.URL) (Gateway, error)

// GatewayOpener is implemented by an entry of the table of schemes (a
// [transport.Transport] given to [transport.Register] or
// [WithCustomTransports]) whose schemes are served by a gateway above the
// engine rather than by byte connections: [Netron.Listen] opens the
// gateway instead of calling the transport's Listen. Its Dial may still
// reach a remote over the scheme (package nats dials Go peers through
// NATS), or refuse with an error naming the gateway's own client.
// Transports and gateways thus share one table: a scheme is registered
// once, [transport.Schemes] lists them all, and a duplicate panics.
type GatewayOpener interface {
	transport.Transport
	OpenGateway(ctx context.Context, e Engine, u *url.URL) (Gateway, error)
}

// gatewayTransport is the entry RegisterGateway and WithGateway make for a
// GatewayFactory: it opens the gateway, and refuses what only byte
// transports do.
type gatewayTransport struct {
	scheme string
	f      GatewayFactory
}

func (g gatewayTransport) Name() string                         { return g.scheme + " gateway" }
func (g gatewayTransport) Schemes() []string                    { return []string{g.scheme} }
func (g gatewayTransport) Capabilities() transport.Capabilities { return transport.Capabilities{} }

func (g gatewayTransport) OpenGateway(ctx context.Context, e Engine, u *url.URL) (Gateway, error) {
	return g.f(ctx, e, u)
}

func (g gatewayTransport) Listen(context.Context, *url.URL, transport.Options) (transport.Listener, error) {
	return nil, fmt.Errorf("transport: %s:// is served by a gateway above the engine, not by a byte transport: listen with netron.Netron.Listen", g.scheme)
}

func (g gatewayTransport) Dial(context.Context, *url.URL, transport.Options) (transport.Conn, error) {
	return nil, fmt.Errorf("transport: %s:// is served by a gateway above the engine, not by a byte transport: call it with the gateway package's client", g.scheme)
}

// WithGateway makes this Netron's [Netron.Listen] start f for URLs of the
// scheme, in place of any transport or gateway registered for the process
// under it: a gateway given to one Netron, not to the program.
func WithGateway(scheme string, f GatewayFactory) Option {
	return netronOption{fmt.Sprintf("Gateway(%q)", scheme), func(n *Netron) {
		n.addTransport(gatewayTransport{strings.ToLower(scheme), f})
	}}
}

// RegisterGateway makes [Netron.Listen] start f for URLs of the scheme, in
// every Netron of the process ([WithGateway] gives one Netron its own).
// Gateways and transports share one table of schemes, the transport
// registry ([transport.Register]): registering a scheme that a transport
// or another gateway has panics, and [transport.Schemes] lists it. It is
// meant for init functions.
func RegisterGateway(scheme string, f GatewayFactory) {
	if f == nil {
		panic(fmt.Sprintf("netron: RegisterGateway(%q) with a nil factory", scheme))
	}
	transport.Register(gatewayTransport{strings.ToLower(scheme), f})
}

// Logger returns the Netron's logger, for gateways.
func (n *Netron) Logger() *slog.Logger { return n.log }

// ErrDraining is the error (code unavailable) of a call that [Netron.Invoke]
// or [Netron.InvokeStream] refused because the Netron is stopping: the
// method did not run. A gateway that can hand the request to another
// instance (a NATS queue group) tests for it with errors.Is.
var ErrDraining error = errDraining

// Definition returns the definition query_interface answers with for
// target (an exact name, a range or a bare name), as seen through the
// transport named transport (services restricted by titan.Transports are
// not found elsewhere; a miss is [ServiceNotFound]). Gateways that resolve
// targets themselves use it.
func (n *Netron) Definition(target, transport string) (*protocol.Definition, error) {
	s, err := n.resolveTarget(target)
	if err == nil && !s.exposedOn(transport) {
		err = errNoService(target)
	}
	if CodeOf(err) == CodeNotFound {
		return nil, ServiceNotFound(target, n.exposedServices(transport))
	}
	if err != nil {
		return nil, err
	}
	return s.definition(n.id), nil
}

// DefinitionFor is [Netron.Definition] as the caller in ctx may see it
// ([Access]): the methods it may not call are left out, and a service of
// which it may call nothing is not found.
func (n *Netron) DefinitionFor(ctx context.Context, target, transport string) (*protocol.Definition, error) {
	s, err := n.resolveTarget(target)
	var def *protocol.Definition
	if err == nil && s.exposedOn(transport) {
		def = n.definitionFor(ctx, s)
	}
	if err == nil && def == nil {
		err = errNoService(target)
	}
	if CodeOf(err) == CodeNotFound {
		return nil, ServiceNotFound(target, n.visibleServices(ctx, transport))
	}
	if err != nil {
		return nil, err
	}
	return def, nil
}

// Authenticator returns the handler of the authenticate task, or nil; the
// HTTP gateway serves /netron/authenticate with it.
func (n *Netron) Authenticator() Authenticator {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.auth
}

// Engine is the published API of a Netron for what sits above it: the
// gateways (http, nats; later the API gateway and the development UI) and
// modules reach the engine through it, never through its internals. It is
// implemented by *Netron.
type Engine interface {
	// ID returns the Netron's id, sent to peers in the handshake.
	ID() string
	// Config returns the configuration in force.
	Config() Config
	// Logger returns the Netron's logger.
	Logger() *slog.Logger
	// TLS returns the server TLS configuration set with WithTLS, or nil.
	TLS() *tls.Config
	// ListenOptions returns the transport options (limits, TLS) the Netron
	// listens with on scheme.
	ListenOptions(scheme string) transport.Options
	// Authenticator returns the handler of the authenticate task, or nil.
	Authenticator() Authenticator

	// Invoke runs a unary or void call on a local service.
	Invoke(ctx context.Context, inv *Invocation) (any, error)
	// InvokeStream runs a stream call on a local service.
	InvokeStream(ctx context.Context, inv *Invocation) (iter.Seq2[any, error], error)
	// Describe describes the registered services.
	Describe() []ServiceDesc
	// Services returns the qualified names of the registered services.
	Services() []string
	// Definition returns the definition query_interface answers with.
	Definition(target, transport string) (*protocol.Definition, error)
	// DefinitionFor returns it as the caller in ctx may see it.
	DefinitionFor(ctx context.Context, target, transport string) (*protocol.Definition, error)
	// Access returns who may see and call what, or nil (WithAccess).
	Access() Access
	// Value returns what WithValue recorded under key, or nil.
	Value(key any) any
	// VisibleMethods returns the methods of a service the caller in ctx
	// may call.
	VisibleMethods(ctx context.Context, qualified string) []string

	// Emit and Subscribe are the events of the process.
	Events
}

var _ Engine = (*Netron)(nil)
