// Package http is Netron's gateway for http:// and https:// addresses (a
// door above the engine, on its public invoke and describe API; import it
// as httptransport beside net/http): the HTTP protocol of the original TypeScript server
// (NETRON-WIRE.md §11) plus JSON routes per method, streams as Server-Sent
// Events or NDJSON, and an OpenAPI 3.1 document.
//
// Importing the package registers the gateway for both schemes, so that
// [netron.Netron.Listen] serves HTTP:
//
//	import _ "github.com/titanframework/titan/modules/netron/http"
//
//	addr, err := n.Listen(ctx, "http://127.0.0.1:7080")
//
// The gateway's settings are options: [WithMaxBodySize] (default 10 MiB),
// [WithMaxBodyMemory] (the bytes of request bodies held at once, all
// requests together, default 256 MiB), [WithMaxBatchSize] (requests in one
// /netron/batch, default 100), [WithTimeout] (unary calls, default 30s),
// [WithWriteTimeout] (each write of an answer, default 30s),
// [WithStreamKeepAlive] (the longest silence of an SSE answer, default
// 15s), [WithCORS], [WithPathPrefix], [WithTLS] (https; else the Netron's
// netron.WithTLS) and [WithCompression]. [Listen] and [NewHandler] take them, [NewHandler] for
// mounting on a router of one's own; the gateways a Netron opens
// (netron.Netron.Listen, netron.listen) take those of the Netron option
// [WithGatewayOptions], which a titan app fills from its `http`
// configuration section ([Config]: http.maxBody, http.maxBodyMemory,
// http.maxBatch, http.timeout, http.writeTimeout, http.cors.origins,
// http.cors.credentials, http.prefix, http.cert, http.key). The listen
// URL's query parameters of the same names (maxBody=, timeout=, cors=,
// corsCredentials=, prefix=, cert=, key=) still work, deprecated: the
// gateway logs one warning naming what replaces each, and the next minor
// release drops them.
// The connection limits of the HTTP server (header and body timeouts,
// connection caps, header size, idle timeout; [WithLimits]) come from the
// Netron's configuration (netron.handshakeTimeout, frameTimeout, ...).
//
// The gateway is mounted on the HTTP server of its host:port that the
// Netron's listeners share (package httpmux, in the Netron's
// transport.Ports scope), so a ws:// listener of the same Netron can share
// the port. The gateway
// takes the path "/" (every request no more specific pattern claims); when
// a ws:// listener already holds "/" it takes only its GET routes and the
// other methods, leaving other GET requests (WebSocket upgrades) to it. A
// ws:// listener on "/" must therefore listen before the http:// gateway
// on the same port; one on another path ("/ws") may listen in any order.
//
// # Routes
//
//	POST /netron/invoke        {id, service, method, input, context?, hints?} (§11.2)
//	POST /netron/batch         {id, requests:[…], options?} (§11.5)
//	POST /netron/authenticate  {id, credentials} (§11.3; see [WithAuthenticator])
//	GET  /health               {"status":"online"}, 503 {"status":"draining"} while stopping
//	GET  /openapi.json         OpenAPI 3.1.0, served without authentication
//	GET  /discover             the services exposed here (netron-browser's ping)
//	GET  /netron/definition/<target>  the definition query_interface gives (for Go clients: netron.Dial)
//	GET  /metrics              401, as the original without a token (Prometheus metrics are modules/metrics')
//	OPTIONS *                  CORS preflight, 204
//	POST <path>/<method>       JSON route of a service with titan.HTTP(path)
//	POST /rpc/<target>/<method> JSON route of every service; target is name@version, a bare name, a range or a definition id
//
// Anything else is 404 {"id","success":false,"error":{"code":"404","message":"Not found","details":{}}};
// a GET on a JSON route is 405.
//
// Only public methods are reachable, and only services exposed on the
// gateway's transport name: "http", or "https" for an https:// gateway
// (see netron.WithTransports).
// Arguments and results go through the one JSON mapping of §11.1, package
// protocol's ([protocol.AppendJSON] reads arguments, [protocol.AppendValueJSON]
// writes results); object keys keep their order (struct fields in
// declaration order).
//
// # /netron/invoke and /netron/batch
//
// Envelopes are the original's: success {"id","success":true,"data",
// "hints":{"metrics":{"serverTime":ms}}} with "data" absent for a void
// method; an input that is not an array is the single argument; a stream
// method's items are drained into an array (at most 10000 items and
// netron's maxFrameSize in bytes of JSON, else 413 naming the limit and the
// stream stopped).
// hints.timeout (ms) shortens the call's timeout, the gateway's
// ([WithTimeout], http.timeout: 30s), which a longer hint does not lengthen
// (408 "Request timed out after Nms"). A batch answers 200 with one
// response per request run, in order; unlike the original, its requests
// pass the same interceptors and contract validation as /netron/invoke, and
// a batch of more requests than the limit ([WithMaxBatchSize],
// http.maxBatch: 100) is refused whole before any runs: 413 "Batch too
// large: N requests exceed the limit of M requests per batch
// (http.maxBatch, WithMaxBatchSize)". An item's error is bounded (a
// not-found message names at most netron.ListLimit services or methods, and
// repeats at most netron.EchoLimit bytes of a name), so the limit bounds
// the answer too; and the responses that succeed take at most netron's
// maxFrameSize bytes of JSON together, as a drained stream does alone: one
// that does not fit in what is left fails with 413 "Batch answer too
// large: … (netron.maxFrameSize)". Its requests together, run one at a
// time or in parallel, take at most the gateway's timeout, counted from the
// start of the first: one that time cuts short, and those that would start
// after it, fail with 408 naming http.timeout.
//
// # JSON routes
//
// The body is the JSON array of the positional arguments, or, for a method
// that takes one argument, that argument itself (typically the object of a
// struct argument); an empty body is no arguments. A method with a single
// slice argument takes [[…]]. The answer is the plain JSON result with
// status 200, or 204 without a body for a void method. A stream method
// answers by Accept: text/event-stream gives Server-Sent Events ("data:
// <json>" per item, then "event: end" with data {"count":N}; a failure
// after the first item is "event: error" with the error body as data);
// application/x-ndjson gives one JSON item per line (a failure is a last
// line holding the error body); anything else one JSON array of the items
// (bounded as /netron/invoke's).
// Streams answered as SSE or NDJSON have no timeout (they end with the
// method or the client); unary calls and streams drained into an array have
// the gateway's timeout. Every answer, streams and those of mounts
// ([WithMounts]) included, has the write timeout ([WithWriteTimeout],
// http.writeTimeout: 30s): each write and flush, of at most 64 KiB, must be
// taken by the client within it, or the connection is closed and the call
// producing the answer cancelled, so a client that stops reading holds
// neither a goroutine nor a stream's producer for longer; a stream that is
// read lives as long as it runs. An item is flushed at once when the last
// flush is a millisecond old or more; items that follow it within the
// millisecond are flushed together at its end, so a burst leaves in a few
// writes and an item the method follows with a wait is never held back.
// An SSE answer silent for 15s ([WithStreamKeepAlive]) sends the comment
// ": keep-alive", so that proxies do not close it as idle; before its
// first item, after its status and headers (a failure is then its "event:
// error").
//
// # Errors
//
// Errors are {"id","success":false,"error":{"code","message","details"}}
// with the status of the error's code (see [HTTPStatus]); error.code is the
// status as a string, or the error details' errorCode string when there is
// one, as in the original. Every error answer carries the Titan code name
// in X-Titan-Code; request-level errors (malformed JSON, unknown route,
// body too large, shutting down) also carry X-Request-ID, which is the
// body's id. A body over the limit is answered 413 "Request body too large
// (max: N bytes)" (the original crashes); a body that does not arrive in
// time (see [WithLimits]) is answered 408 and its connection closed. The
// request bodies the gateway holds at once, all requests together, are
// bounded too ([WithMaxBodyMemory], http.maxBodyMemory: 256 MiB): a request
// whose body does not fit is answered 503 unavailable "Server busy: the
// request bodies being read take the gateway's limit of N bytes
// (http.maxBodyMemory, WithMaxBodyMemory); retry later", with Retry-After,
// and its connection closed without the rest of its body being read. While
// the gateway shuts down, requests get 503 "Server is shutting down".
//
// JSON has no NaN or Infinity: a result holding one is an internal error
// (500; the reason is logged), where JSON.stringify would give null, and a
// number in the input beyond the float64 range (1e400) is invalid_argument
// naming the argument, where JSON.parse would give Infinity.
//
// An unknown service or method is 404 with the original's message on
// /netron/invoke and /netron/batch ("Method nope not found in service
// calculator@1.0.0"), which netron-browser users may match; a request with
// the [TitanPeerHeader] header (as [Client] sends) and every JSON route get
// Titan's message instead, the one Go peers get on every transport, which
// lists what exists: `service calculator@1.0.0 has no method "nope" (it
// has: add, div)` (see netron.MethodNotFound and netron.ServiceNotFound).
//
// # Calling from Go
//
// [Client] calls through POST /netron/invoke, of a Titan gateway or of the
// original TypeScript server, as netron-browser's HttpClient does:
//
//	c, err := httptransport.NewClient("http://127.0.0.1:7080", netron.WithBearerToken(tok))
//	sum, err := httptransport.CallUnary[float64](ctx, c, "calculator@1.0.0", "add", 2, 3)
//
// netron.Dial(ctx, "http://…") calls through the same client, with streams
// and bound clients. Both take netron.ClientOption, the options of every
// client: netron.WithBearerToken, netron.WithTLS (its client side), and
// this package's [WithHTTPClient], [WithHeader] and [WithMaxResponseSize].
//
// Errors keep their code ([netron.CodeOf]) and details; the context's
// deadline bounds the call on both sides (on the server's, within the
// gateway's timeout).
package http
