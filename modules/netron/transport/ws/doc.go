// Package ws is the Netron transport for WebSocket, schemes "ws" and "wss" (NETRON-WIRE.md
// §3.1), built on github.com/coder/websocket.
//
// Importing the package registers the transport:
//
//	import _ "github.com/titanframework/titan/modules/netron/transport/ws"
//
// # Messages
//
// Each Netron message is one WebSocket message: [Conn.WriteMessages] sends every message as
// one binary message, in order; [Conn.ReadMessage] returns the next message, binary or text
// (netron-browser sends its client-id handshake as text). Messages above the frame limit
// ([transport.Options.FrameLimit], 16 MiB by default) are refused by the writer, and a reader
// given one closes the connection with status 1009 and returns an error matching
// [transport.ErrFrameTooLarge]. Compression is not negotiated.
//
// # Listening
//
// Listen addresses are ws://host:port/path or wss://host:port/path. The listener mounts its
// upgrade handler on the process-wide HTTP server of host:port (package httpmux), so a ws
// listener and an HTTP gateway on the same port share one socket. The path is a ServeMux
// path: "/" (the default) receives upgrades on any path no other handler claims, "/ws" only
// that path, "/ws/" that subtree. A request that is not an upgrade is answered 426 on the
// path itself and 404 elsewhere. wss requires [transport.Options.TLS] with a certificate and
// ws refuses one. Listen options travel in the query of the listen address, each at most once:
//
//	origins=LIST       comma-separated Origin patterns allowed besides the listener's own
//	                   host, as coder/websocket's AcceptOptions.OriginPatterns: a host
//	                   ("app.example.com", "*.example.com") or scheme://host
//	                   ("https://app.example.com"), with path.Match wildcards; "*" allows
//	                   every origin. Default: only requests without Origin or from the same
//	                   host. A refused origin is answered 403 before the upgrade (the
//	                   TypeScript server upgrades first and closes with 4001).
//	ping=DURATION      interval of WebSocket ping frames to each accepted connection
//	                   (default 30s, 0 turns keep-alive off)
//	pingTimeout=DURATION  how long to wait for the pong before the connection is dropped
//	                   (default 5s)
//
// for example ws://127.0.0.1:7080/?origins=https://app.example.com,https://*.example.com.
// Pongs are read by ReadMessage, so keep-alive pings only while a ReadMessage is waiting, and
// drops a connection only when that ReadMessage waited pingTimeout without the pong coming
// and without a byte arriving: a connection whose owner stops reading for a while (the engine
// at its cap of calls per peer) is not judged by pongs nobody reads, nor a peer whose pong
// waits behind a large message it is sending. A dropped connection gets no close handshake,
// and its ReadMessage returns an error matching [ErrNoPong].
//
// The limits of [transport.Options] apply to accepted connections: the upgrade request (and,
// for wss, the TLS handshake) must arrive within HandshakeTimeout; MaxConns and MaxConnsPerIP
// count the connections of the port, HTTP and WebSocket together (one over a cap is closed
// as soon as it is accepted); and a message (or control frame) whose first byte has
// arrived must be complete within FrameTimeout or keep arriving at FrameMinRate, or the
// connection is dropped and ReadMessage returns an error matching [transport.ErrFrameTimeout].
// Frame headers count as arriving bytes but do not grow a message, so a message must also be
// complete within FrameTimeout plus the time a message of MaxFrameSize takes at FrameMinRate
// (with 1/16 more for headers): empty fragments sent just fast enough do not keep it open.
// To know where messages begin and end without a deadline per message, the listener follows
// the frame headers in the bytes read from the connection; a read deadline is set only while
// a message is incomplete. Over wss, a message begins with the first byte of a TLS record on
// the wire, and its bytes are counted in TLS records as they arrive: a peer that stops inside
// a record is cut as inside a message.
//
// The first message to an accepted connection waits until 10 ms after the upgrade, as the
// original server sends its id message: the original titan Node client starts listening
// only once the socket is open and loses a message that comes with the upgrade answer
// (NETRON-WIRE.md §4.2 step 3). A client that sends the [GoClientHeader] header, as Dial
// does, is not kept waiting.
//
// Accepted connections implement [transport.Credentials]: the token comes from the upgrade
// request's "Authorization: Bearer" header, else from its "token" query parameter
// (NETRON-WIRE.md §4.4). [Conn.Header] gives the whole request header.
//
// # Closing
//
// Close runs the WebSocket close handshake: the server side sends 1001 "Server closing", the
// client side 1000. [Conn.Reject] closes with 4001 and a reason, as the original server
// refuses a token ([transport.Rejecter]); [Conn.Ping] sends a ping and waits for the pong
// ([transport.Pinger]). It waits at most one second for the peer's answer, then drops the TCP
// connection. A peer's close with 1000, 1001 or no status makes ReadMessage return io.EOF;
// other statuses give an error wrapping [websocket.CloseError], so websocket.CloseStatus
// reports the code.
//
// # Dialing
//
// Dial connects to ws://host[:port][/path] or wss://...; the port defaults to 80 and 443. The
// path and query are sent in the upgrade request (netron-browser puts ?token= there), and the
// connection's RemoteAddr omits the query. wss uses [transport.Options.TLS] as the client TLS
// config (nil: the system roots), offering HTTP/1.1 only in ALPN; ws refuses a TLS config.
// Dial connects directly, without HTTP proxies, and does not negotiate compression.
//
// # Performance
//
// Every message is one write system call when header and payload fit the connection's 4 KiB
// write buffer, two otherwise; a dialed connection masks its payload through that buffer, so
// it writes large messages in 4 KiB pieces. Go-to-Go traffic of large messages is faster
// over tcp://.
package ws
