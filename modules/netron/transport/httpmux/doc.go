// Package httpmux shares one HTTP server per listen address among the transports of a scope
// ([transport.Ports]: a Netron's listeners, or the process's when none is given), so that ws://127.0.0.1:7080 and http://127.0.0.1:7080 are served by one net.Listener and one
// [http.Server].
//
// [Acquire] returns a handle on the server for a host:port, starting the server on first use:
//
//	srv, err := httpmux.Acquire(ctx, "127.0.0.1:7080", transport.Options{})
//	if err != nil {
//		return err
//	}
//	defer srv.Release(ctx)
//	remove, err := srv.Handle("POST /netron/invoke", h)
//
// Handlers are mounted with Go 1.22 [http.ServeMux] patterns; a pattern that is invalid or
// conflicts with one already mounted is refused with an error (ServeMux itself would panic).
// Each handle counts as one reference; when the last handle is released, the listener closes at
// once and the server shuts down gracefully within the context given to [Server.Release].
// Connections taken over with http.Hijacker (WebSocket upgrades) are not tracked by the
// server and outlive it; their owners close them.
//
// Servers use HTTP/1.1 only, also over TLS, so that WebSocket upgrades work on every
// connection. Their limits come from the [transport.Options] given to [Acquire]: the TLS
// handshake must end within HandshakeTimeout of accept, and the request header within
// HandshakeTimeout of the handshake's end or of the previous request (10 s by default;
// slower ones are dropped; net/http times the two apart, so over TLS the set-up may take
// up to twice HandshakeTimeout), a header above MaxHeaderBytes (64 KiB, the request line included) is answered 431,
// an idle keep-alive connection is closed after HTTPIdleTimeout (2 min), and a request body
// must arrive like a message: within FrameTimeout of the header (15 s) or at FrameMinRate
// (64 KiB per 10 s), or its reads fail with an error matching [transport.ErrFrameTimeout]
// (the connection is then closed once the handler has answered). MaxConns (10,000) and
// MaxConnsPerIP (no cap) count the connections that speak HTTP; one over a cap is closed at
// once and a warning is logged to Options.Logger, at most every 10 s. A connection hijacked
// by a handler that took its count ([Server.TakeCount], as a WebSocket upgrade does) stays
// counted until that handler releases it, so the caps hold for a port whatever its
// connections speak; any other hijacked connection leaves the count. There is no timeout for a whole
// request or response, so streaming responses (SSE, NDJSON) are possible, and handlers bound
// their own work. Over TLS, each socket is read through a follower of its TLS records
// (internal/tlsrecord), which a handler that hijacks the connection may watch to time
// messages from their first byte on the wire, as package ws does. What net/http logs (a
// panic in a handler, with its stack; a failed TLS handshake, at debug level; an error
// accepting connections) goes to Options.Logger, one record per event, and nowhere when it
// is nil.
package httpmux
