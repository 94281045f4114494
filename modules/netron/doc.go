// Package netron is Titan's RPC engine. It speaks the wire protocol of the
// original TypeScript Netron (shared/protocol/NETRON-WIRE.md), so TypeScript
// clients call Go services unchanged, and it adds a negotiated extension
// for Go peers.
//
// # Services
//
// A service is a Go value registered as name@version ([Netron.Register], or
// titan.Service in an app). Its public methods are its exported methods
// whose first argument is a context.Context and that return (T, error)
// (unary), error (void: the wire value undefined) or iter.Seq2[T, error] (a
// server stream). The wire name is [WireName] of the Go name ("GetUserID"
// is "getUserID"); two methods with one wire name are refused. Exported
// methods of other shapes that look meant to be public are reported when
// the service is registered (a warning, an error with [WithStrict]); a
// context.Context after the first argument is an error. Arguments are
// positional ([WithArgs] names them). Names match [A-Za-z0-9_-]+ and
// versions are semantic versions without build metadata.
//
// Methods are found by reflection and called through reflect: common
// scalar shapes through reflect's method value, others through
// reflect.Value.Call, and a stream's items pass through reflect unless
// they are of a common scalar type. A service that implements
// [MethodFuncs] hands its methods over as typed func values
// ([Func1](s.Place), [Stream1](s.List), ...), which are called directly
// with their arguments decoded into their Go types, whatever the types: no
// reflection on the call or on a stream's items, and fewer allocations
// (titan new and titan generate write the method). The answers are the
// same either way.
//
// # Contracts
//
// Each method has a JSON Schema (draft 2020-12) for its arguments (a tuple:
// "prefixItems", exactly as many items as arguments) and one for its result
// or stream items, derived from the Go types (json and jsonschema struct
// tags) or given with [WithContract]. With the validation interceptor
// (package validate; a titan app installs it unless netron.skipValidation),
// arguments are checked before the method runs — a violation is
// invalid_argument naming the argument and every failing JSON pointer in
// it ("calculator@1.0.0.add: argument 1 (a): want a number, got a
// string"; the details list the pointers) — and results and stream items
// before they are sent (a violation there is internal). The "format"
// keyword is asserted (email, uuid, date-time, uri, ipv4, ipv6, hostname,
// ...). The schemas travel in the definition's metadata, per method, as
// inputSchema and outputSchema.
//
// # Errors
//
// Errors carry a [Code] (gRPC numbering, snake_case names). On the wire an
// error is a TitanError with the HTTP-like number of [Code.WireCode] and
// the code's name under the extra field "goCode", so every code round-trips
// between Go peers while TypeScript peers see the numbers they know. A
// plain error reaches the caller with its message and code unknown;
// [NewError] sets the code; a panic (of the method, or of an interceptor
// serving the call) or an encoding failure is internal with a generic
// message (details go to the server log) and ends that call only; no stack
// is ever sent.
//
// # Calls
//
// [Dial] (or [Netron.Dial]) connects and completes the handshake; then
// [Peer.Call] / [CallUnary], [Peer.CallStream] / [CallStream] (both
// iterators; [Peer.OpenStream] gives the Stream itself), or [Peer.Bind] for a struct of func fields. Targets are "name@1.2.3" (sent
// as is, as TypeScript clients do), a range "name@^1.2" or a bare "name"
// (one query_interface per connection; Go servers resolve ranges to the
// highest match). Without a deadline on the context, a call times out after
// Config.RequestTimeout (5 s). One connection carries any number of
// concurrent calls and streams; writes are coalesced into batches. When a
// connection drops, calls in flight fail with unavailable; a dialled peer
// reconnects with exponential backoff and jitter, subscribes again to its
// events and re-resolves its targets. A caller sends metadata with its
// context ([WithOutgoingMetadata]); a method reads its caller's with
// [IncomingMetadata].
//
// # Streams
//
// A stream method answers its CALL with a StreamReference, then sends one
// STREAM packet per item and a final packet with the end-of-stream bit; a
// failure ends the stream with STREAM_CLOSE carrying the reason
// (NETRON-WIRE.md §8). The response always precedes the first item. At most
// Config.MaxStreamsPerPeer streams are open per direction and connection; a
// stream without progress for Config.StreamIdleTimeout is ended. The items
// a connection has received and its readers have not taken are at most
// Config.MaxStreamBytesPerPeer bytes (each item counted with a small fixed
// overhead): the stream whose item would pass the bound ends with
// resource_exhausted. A Go producer keeps to the receiver's window on each
// stream (Config.StreamWindow items, Config.StreamWindowBytes bytes,
// announced at most half the bound), so that one stream read slowly waits
// for its reader instead of passing the bound; only more streams read
// slowly at once than the bound holds windows can pass it. A producer with
// no window (not a Go peer) is held by the bound alone.
//
// # Events
//
// [Netron.Emit] and [Netron.Subscribe] work in-process with NATS-style
// patterns ("chat.*" matches one token, "orders.>" one or more); a peer
// subscribes to exact event names with the subscribe task
// ([Peer.Subscribe]), at most Config.MaxSubscriptionsPerPeer per peer.
// Events for one peer arrive in the order they were emitted; those emitted
// while its send queue is full (it reads slower than they come) are
// dropped for it, so that it holds up neither Emit nor the other peers.
//
// # Tasks
//
// The core tasks of the original are served: query_interface (exact, range
// or bare names), subscribe, unsubscribe, emit, unref_service,
// invalidate_cache (asks every interceptor that is a [CacheInvalidator],
// such as package cache's, to drop results; returns the number removed) and authenticate (filled by the security module;
// without it, 503 as in the original); expose_service and unexpose_service
// are refused. list_services lists a Go server's services. GET and SET are
// answered with unimplemented: Titan services expose methods, not
// properties.
//
// # Interceptors
//
// [Interceptor] wraps calls connect-go style. The ordering rule: the
// interceptors given to a Netron ([WithInterceptors], in order, over as
// many options as given) wrap every call it serves and every call it makes,
// the first one outermost: it sees the call first and the result last. The
// engine installs none of its own. Features are interceptors like any
// other, written against the public call model: a titan app installs the
// app's interceptors (titan.Interceptors, in order), then the response
// cache (package cache) and contract validation (package validate),
// innermost, next to the method.
//
// The public call model is [Call] and, on the serving side, [MethodSpec]:
// Call.Service, Call.Method, Call.Peer (nil in-process) and Call.Metadata
// (the caller's, set by interceptors on the calling side of Go peers; on
// the serving side shared by the calls of a connection that sent the same
// metadata, so read-only there) say what is called by whom;
// [Call.IsClient] which side is running; the arguments come as the
// interceptor asks: decoded Go values ([Call.Args]),
// the encoded wire values ([Call.RawArgs], aliasing the request's frame,
// valid until the call returns) or JSON values ([Call.JSONArgs]).
// [Call.Spec] describes the method served: its shape, its contract
// ([Call.CheckArgs], [MethodSpec.CheckResult]), its cache TTL and the
// options it was registered with, so that a feature finds its own;
// [Call.Identity] says who is calling. An interceptor may keep the Call it
// is given. A Netron without interceptors reuses the state of unary calls
// it serves and of [CallUnary], since no code but its own sees them; a
// method's context is never reused.
//
// # Above the engine
//
// Gateways (package http, package nats) and modules reach a Netron through
// [Engine], its published API: invoke a method or a stream, describe the
// services, look up a definition, emit and subscribe to events. They give
// services and methods options of their own with [WithExtension] and
// [WithMethodExtension] and read them back from [ServiceDesc] and
// [MethodSpec]. A Netron serves the schemes of one table: the transports
// and gateways registered for the process (transport.Register,
// [RegisterGateway]) under its own ([WithCustomTransports], [WithGateway]);
// an entry that opens a gateway is a [GatewayOpener]. Which schemes are
// TLS, and which address a parent process handed down, the transports say
// (transport.Securer, transport.Inheritor). Below the engine, the
// connection engine (reading, the send queue, pending calls, the streams
// a peer produces) is package internal/session.
//
// # The Go-to-Go extension
//
// Both sides announce "titan":{"v":1,"window":N,"z":[...]} in their handshake id
// message (TypeScript peers ignore extra properties). When both did, the
// connection also uses, with packets TypeScript peers never receive:
//
//   - call headers: a CALL request with the live bit (flags 0x63) carries a
//     map after the method name, before the arguments, with "t" (the
//     caller's remaining time in ms) and "m" (metadata, string to string);
//   - cancel: a CALL packet with the impulse and error bits (0xC3), the id
//     of the call to cancel and a nil payload; it is not answered;
//   - stream credit: the reader of a stream grants the producer more items
//     with a STREAM packet without the impulse bit, the number as payload
//     and the stream id in the trailer; the producer starts with the
//     reader's announced window (items, and bytes: "windowBytes") and
//     waits when it runs out, so a paused reader holds at most a window of
//     items, or of bytes and one item more; a grant covers the oldest
//     items, and the reader grants once it has read half of either;
//   - stream cancel: STREAM_CLOSE without the impulse bit, from the reader,
//     payload {streamId, reason};
//   - compression: each side lists the algorithms it decodes ("z":
//     ["zstd","s2"]); a side whose Config.Compression names one of them
//     sends messages of Compression.MinSize bytes or more as envelopes
//     (flags 0x08: the length, the algorithm, the compressed message),
//     when that makes them smaller.
//
// A peer that did not announce the extension gets the plain protocol, and
// TCP back-pressure instead of credits.
//
// # Stopping
//
// [Netron.Stop] drains: listeners close, new calls are refused with
// unavailable, calls in flight finish within the stop context, then every
// connection closes once their answers and the events emitted are written
// and the events answered.
package netron
