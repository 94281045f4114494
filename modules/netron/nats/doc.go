// Package nats carries Netron calls, streams and events over NATS (a door
// above the engine; import it as natstransport beside nats.go). Importing
// it registers the nats:// scheme on both sides:
//
//   - serving: [netron.Netron.Listen] with "nats://host:4222" starts a
//     [Gateway] that connects to the server and queue-subscribes every
//     registered service exposed on "nats" (titan.Transports), so that
//     every instance of a service shares its calls;
//   - calling: [netron.Dial] / [netron.Netron.Dial] with the same URL
//     returns a *netron.Peer whose Call, CallStream, Bind and Subscribe
//     reach whichever instance NATS picks.
//
// Events cross processes through a [Bridge] ([NewBridge]). The embedded
// subpackage runs a NATS server in-process for one machine.
//
// # Addresses
//
// nats://[user:password@]host:port[?prefix=p][&ackTimeout=d]. The prefix
// (default [DefaultPrefix], "titan") is the first token of every subject
// below; processes that must see each other use the same one. ackTimeout
// (a positive duration, default [DefaultAckTimeout], 1 s) is how long a
// caller dialling the address waits for a call to be acknowledged or
// answered before it fails it with unavailable (see Liveness); a listening
// gateway accepts the parameter and has no use for it. The server's TLS
// requirement is honoured by nats.go; transport TLS options are refused.
//
// # Subjects
//
// NATS subject tokens cannot contain dots, so a version token is the
// version with its dots replaced by '_' ([VersionToken]: 1.2.0-rc.1 is
// 1_2_0-rc_1; semver has no '_', so the mapping is reversible). Service
// names ([A-Za-z0-9_-]+) and method names are tokens as they are.
//
//	<p>.rpc.<name>.<vtoken>.<method>   a call (request/reply); instances
//	                                   queue-subscribe <p>.rpc.<name>.<vtoken>.*
//	                                   in the queue group <p>.rpc.<name>.<vtoken>
//	<p>.resolve.<name>                 resolving a range or bare name; every
//	                                   instance answers (no queue group)
//	<p>.authenticate                   the authenticate task; gateways
//	                                   queue-subscribe it in the group
//	                                   <p>.authenticate
//	<p>.inst.<id>.ping|cancel|credit|close
//	                                   the control subject of one instance
//	<p>.events.<topic>                 events (Bridge, Peer.Subscribe)
//	<inbox>.r.<call>                   answers to the caller's call <call>
//	<inbox>.q.<task>                   resolve answers
//	<inbox>.s                          stream packets for the caller
//	<inbox>.p.<id>                     answers to the caller's probes
//	<inbox>.alive                      an instance probing the caller
//
// <inbox> is a fresh NATS inbox per dialled connection; <id> is a fresh
// instance id per gateway (a NUID).
//
// # Calls
//
// A call is one NATS message to its call subject, with reply subject
// <inbox>.r.<call id>, whose body is the MessagePack array of the
// positional arguments and whose headers are [HeaderInbox], [HeaderCall]
// (the caller's request id), [HeaderTimeout] (remaining milliseconds, the
// call's deadline on the instance; one beyond what a time.Duration holds,
// about 292 years, is taken as that, and a negative or non-numeric one is
// refused with invalid_argument), [HeaderMetadata] (a JSON object),
// [HeaderCaller], and [HeaderStream] and [HeaderWindow] (used if the
// method streams). Exact targets (calculator@1.2.0) go straight to the
// subject; a range or a bare name is resolved once per connection: the
// request goes to <p>.resolve.<name>, every instance answers with its best
// match as a Netron TASK packet holding the definition as the caller may
// see it (with an [netron.Access], the methods it may not call are left
// out; a resolve is anonymous unless it brings a token in
// [HeaderMetadata]'s "authorization", as a call does), and the caller
// keeps the highest version among the answers that arrive within 20 ms of
// the first. Definitions over NATS carry the exact qualified name as their
// id, since definition ids are per process. An instance answers the
// resolves of a name one at a time, and the Access's checks of one (its
// Identify) get the Netron's TaskTimeout, as an authenticator does: one
// that has not returned by then is answered deadline_exceeded, and the
// next resolves are answered while it runs on (at most 16 at once). A
// call's Identify gets the TaskTimeout too: one that has not returned by
// then fails the call with deadline_exceeded, and the call gives up its
// slot while Identify runs on (at most as many at once as a service runs
// calls).
//
// The authenticate task (a Go peer's Task with [netron.TaskAuthenticate])
// goes to <p>.authenticate, whose body is the MessagePack credentials
// object; a gateway answers with its Netron's authenticator, as POST
// /netron/authenticate does over HTTP, in a TASK packet holding the
// AuthResult. The serving side keeps nothing, since NATS keeps no
// connection: the calling side keeps the token of an AuthResult whose
// success is true and sends it ("authorization": "Bearer <token>") with
// its later calls that bring none of their own, and with its resolves; an
// authentication refused forgets it. So only a token authenticates over
// NATS: credentials without one are refused with invalid_argument, on
// both sides. The authenticator gets the Netron's TaskTimeout: one that
// has not returned by then is answered deadline_exceeded, and the gateway
// answers the next requests while it runs on (at most 16 authenticators
// at once, the one answering and those past their time).
//
// The answer's body is a Netron CALL packet (id 0, patched by the caller)
// holding the result, or the error bit and a TitanError, exactly as on a
// stream transport, so every error code round-trips ([netron.CodeOf]).
// An answer that is not one (a request, a packet of another type, or one
// whose [HeaderStream] is not the call's stream id) fails the call with
// internal and is not handed to the caller's engine.
// Every answer names its instance in [HeaderInstance].
//
// # Liveness
//
// An instance that works on a call for more than 100 ms acknowledges it
// (an empty message with [HeaderAck] to the reply subject). A call neither
// acknowledged nor answered within the caller's ackTimeout (1 s by
// default) fails with unavailable (it went to an instance that died).
// While a call or an authenticate task is acknowledged but unanswered
// for more than 500 ms, or a stream is open, the caller probes the
// instance (<p>.inst.<id>.ping) every 500 ms: the NATS server drops a dead
// process's subscriptions at once, so a probe of a killed instance gets a
// no-responders status and its calls and streams fail with unavailable
// within about a second; a probe unanswered for 2 s does the same. A call
// no instance is subscribed to fails at once with unavailable (NATS
// no-responders). Over NATS "no instance is running" and "no such
// service" cannot be told apart: both are unavailable. When the caller's
// NATS connection drops, its calls and streams fail with unavailable.
//
// # Streams
//
// The caller chooses the stream id ([HeaderStream]), unique on its
// connection. The instance answers the call with a StreamReference
// carrying that id (and repeats it in [HeaderStream]), then publishes
// Netron STREAM packets (index, end-of-stream bit) to <inbox>.s, in order,
// and ends a failed stream with STREAM_CLOSE whose reason starts with the
// error's code name. Credits: the instance may send as many items as the
// caller's window ([HeaderWindow], the caller's Config.StreamWindow; at
// most 65,536, as a Netron takes from a peer's handshake) plus the
// credits granted since, each grant a message to
// <p>.inst.<id>.credit with [HeaderInbox], [HeaderStream] and the count as
// body; a paused reader therefore holds at most a window of items. When
// the caller sends [HeaderWindowBytes], the instance also stops while the
// items it sent and the caller has not granted back (each counted as its
// packet's bytes and 64 more) reach that many bytes, so a stream of large
// items waits for a slow reader instead of passing its
// Config.MaxStreamBytesPerPeer. The
// caller cancels with <p>.inst.<id>.close (and a call with
// <p>.inst.<id>.cancel, [HeaderCall]). An instance waiting for credits
// probes the caller's <inbox>.alive every 500 ms and ends the stream when
// the caller is gone, or after Config.StreamIdleTimeout. A stream item
// that arrives at a dialled nats:// peer while 65,536 stream packets or
// 64 MiB of them already wait for its engine to read them (a producer
// that ignores the window, or anyone publishing to the inbox) ends its
// stream with resource_exhausted naming a slow consumer, and its producer
// is told to stop; the answers and events waiting beside them do not
// count.
//
// # Draining
//
// [Gateway.Shutdown] (run by [netron.Netron.Stop], e.g. on SIGTERM) drains
// the call and resolve subscriptions: NATS stops routing new calls to the
// instance at once and sends them to the other members of the queue group;
// requests already delivered to the draining instance are answered with
// [HeaderRetry] (the method did not run) and the caller sends them again,
// up to 6 times with backoff from 20 ms; calls in flight finish and are
// answered; then the connection is flushed and closed. No call is lost as
// long as another instance serves the service.
//
// # Frame size
//
// A connection's frame limit is the smaller of the engine's MaxFrameSize
// and the server's max_payload (1 MiB by default). A request above it
// fails with resource_exhausted before anything is sent; an answer or a
// stream item above it is replaced by a resource_exhausted error.
//
// # Events
//
// [NewBridge] publishes every local [netron.Netron.Emit] to
// <p>.events.<topic> with the emitting Netron's id in [HeaderOrigin], and
// emits locally (to local subscribers and subscribed peers) every event
// another process published there; a process never receives its own
// events back, so each subscriber sees each event once. A dialled nats://
// peer's [netron.Peer.Subscribe] subscribes to <p>.events.<topic>
// directly; an event it receives while 1,024 events or 4 MiB of them
// already wait for its engine to read them (the defaults of
// Config.MaxQueuedEventsPerPeer and MaxQueuedEventBytesPerPeer) is
// dropped, as NATS drops what a slow consumer does not take.
//
// # Limits
//
// An instance runs at most Config.MaxCallsPerPeer calls of each service at
// once for one caller (its [HeaderCaller]), as a stream connection runs at
// most that many for its peer, and at most 10 times as many for all its
// callers together (2,560 by default; a stream counts until it is
// answered, as on a stream connection); each service has slots of its
// own, so a method that calls another service of the same instance never
// waits behind itself. So a caller that floods an instance with slow calls
// holds its own share of the slots, and another caller's call runs at once
// beside them. Calls that arrive over these bounds wait in line, without a
// goroutine each, and are acknowledged at once: at most 16 per
// MaxCallsPerPeer (4,096 by default) and 64 MiB wait, at most 4 per
// MaxCallsPerPeer (1,024) from one caller; one over these is refused with
// resource_exhausted and does not run. A slot given up goes to the
// waiting callers in turn, one call each, passing over those that run
// their share already, so a flood's waiting calls never go before another
// caller's. A call's [HeaderTimeout] counts from its arrival, its wait
// included; one whose deadline passes while it waits (without the header,
// after Config.RequestTimeout) is answered deadline_exceeded and does not
// run, nor does one its caller cancels while it waits. The call
// subscriptions' pending limits match the line's, so what
// NATS holds for the gateway is bounded too (it drops the excess as a slow
// consumer, and those calls fail at their callers). Callers' ids are not
// authenticated over NATS: a client sending under many ids is held by the
// service-wide bounds only, and one sending under another caller's id
// shares that caller's share of the slots and the line. Callers that send
// no id share one share, as "anonymous". Control messages (cancel, credit, close,
// ping) come on a subscription of their own and never wait behind calls.
//
// A caller (its inbox, [HeaderInbox]) has at most Config.MaxStreamsPerPeer
// streams open on an instance, as a connection has on a stream
// transport, and the instance has at most 10 times Config.MaxStreamsPerPeer
// open (10,000 by default), all callers together: inboxes, like callers'
// ids, are not authenticated, and a client may open each stream under an
// inbox of its own. A stream over either bound, and one whose
// [HeaderStream] id the caller has open already, is refused
// (resource_exhausted naming the limit, invalid_argument naming the id)
// and the method does not run; streams already open and calls go on. So
// is a call whose [HeaderCall] id the caller has running refused. A stream item above the
// caller's frame limit ends its stream with resource_exhausted.
//
// A [Bridge] logs undecodable events at most once per 10 s, with the
// count of those it dropped without a record since. A dialled nats://
// peer logs what its NATS connection reports apart from any request (a
// slow consumer, a permissions violation) as often, on the logger of its
// transport.Options (slog.Default without one). A request whose
// publication the server refuses the peer's user (its subject, or its
// reply subject) fails at once with permission_denied naming the subject,
// instead of waiting for the ackTimeout; so does a subscription to an
// event the server refuses the user (Peer.Subscribe), the streams of an
// instance whose credit subject (<p>.inst.<id>.credit) it refuses, and
// the calls and streams of an instance whose ping subject it refuses. A
// gateway ([netron.Netron.Listen]) or a [Bridge] whose subscriptions the
// server refuses its user fails to start with permission_denied naming
// the subject.
//
// Services registered after Listen are served by the gateway too
// ([netron.ServiceWatcher]). Calls from the serving side to a caller (reverse calls), GET/SET and tasks
// other than query_interface, subscribe, unsubscribe and unref_service are
// not supported over NATS.
package nats
