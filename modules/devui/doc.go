// Package devui is the development UI of a Titan app: a page to explore
// and call its services, watch its events, and see its peers and metrics,
// served by the app itself or, against a remote app, by `titan dev`.
//
// # Turning it on
//
// The module is in every app titan.New builds and is off by default. Turn
// it on with titan.DevUI(), or with the configuration:
//
//	go run ./examples/calculator --set devui.enabled=true
//
// The page is then served under /_titan/ on every http:// and https://
// listener of the app (http://127.0.0.1:7080/_titan/ for the calculator),
// beside /_titan/metrics, /_titan/healthz and /_titan/readyz of
// modules/metrics, to callers on this machine. devui.listen moves it to
// an HTTP server of its own:
//
//	devui:
//	  enabled: true
//	  listen: 127.0.0.1:7090   # http://127.0.0.1:7090/_titan/
//	  timeout: 1m              # bounds each call and stream of the tester
//	  maxStreamItems: 1000     # items shown of one stream before it is stopped
//	  allowRemote: false       # true: answer callers on other machines too
//	  allowedHosts: []         # names it answers under besides localhost and this machine's addresses
//	  allowedOrigins: []       # origins (https://devui.example.com) whose pages may call it besides its own
//
// Off, the module serves nothing and runs nothing. Against any running app,
// `titan dev ADDRESS` serves the same page locally, reaching the app
// through its Netron endpoint ([Remote]).
//
// # The page
//
// Plain HTML, CSS and JavaScript embedded in the binary: no build step,
// nothing loaded from elsewhere (a test greps the assets for URLs), so it
// works offline; its Content-Security-Policy lets it load and connect to
// its own origin only.
//
//   - Services: each service with its version, definition id, transports
//     and methods; a method's input and output JSON Schemas; a form made
//     from its input schema (numbers, strings, booleans, enums, nested
//     objects; JSON for the rest, or for all the arguments at once) that
//     calls it and shows the result, or the error with its code; a stream
//     method's items as they arrive.
//   - Events: a live feed of the events matching the patterns subscribed
//     to ("calculator.*", ">"), over a WebSocket.
//   - Peers: the connected peers.
//   - Metrics: a glance at modules/metrics' series (goroutines, memory,
//     peers, cache, and the calls served by method: counts, failures by
//     code, mean duration).
//
// # Security
//
// The calls go through the Netron as the HTTP gateway's do ([Local]):
// contracts, interceptors and the security module apply. The page sends
// the token entered at its top as Authorization: Bearer, and the caller is
// who that token says: the services shown are those the caller may call,
// and a call of a protected method without a good token is refused
// (unauthenticated, permission_denied). The event monitor, the peers and
// the metrics show the whole app; with the security module on, they are
// shown only to a caller who may call every method of the app. Services
// restricted by titan.Transports are shown and called as over the HTTP
// listener the page came through.
//
// The UI answers callers on this machine only, whatever address it
// listens on (0.0.0.0 in a container): a caller on another machine gets
// 403, and the module warns at start when the UI listens where other
// machines reach it. devui.allowRemote lets them in ([WithRemoteAccess]);
// give the app a token then.
//
// It answers requests for this machine's own names only: a Host of
// localhost, a name under .localhost, a loopback address or the address
// the request came to. A page of another site whose name its owner
// re-points at this machine (DNS rebinding) is refused, as its requests
// name that site in Host; a reverse proxy that passes on a name of its
// own needs it in devui.allowedHosts ([WithAllowedHosts]).
//
// The page takes calls from its own origin only (a page elsewhere cannot
// make it call a service): the one the request's Host names, or, behind
// a reverse proxy that passes the UI a Host of its own, an origin of
// devui.allowedOrigins ([WithAllowedOrigins]). No page of another
// origin reads the UI's answers: the HTTP gateway's CORS policy
// (http.cors) does not reach them, a CORS grant a middleware puts in them is removed, and a CORS
// preflight the UI answers has none. It bounds a call
// request to [MaxBody] bytes arriving within [BodyTimeout] (on the HTTP
// gateway, within netron.frameTimeout), each call and stream to
// devui.timeout, a stream to devui.maxStreamItems items, the event feeds
// to [MaxFeeds] connections of [MaxSubscriptions] subscriptions (a feed
// without one for [FeedIdleTimeout], or whose page answers no ping, is
// closed), and drops events for a page that reads too slowly rather
// than slowing the code that emits them or holding more than [MaxFeedQueue] bytes for it. The UI is a development tool: keep it off in
// production, or behind a token.
//
// # API
//
// The page's JSON API is served beside it; see [Handler] for the routes
// and the event feed's messages. Errors are {"error": {"code",
// "message", "details"}} with the code's snake_case name ("invalid_argument")
// and the HTTP status the HTTP gateway gives it.
package devui
