// Package httpmux shares one HTTP server per listen address among the transports of a process,
// so that ws://127.0.0.1:7080 and http://127.0.0.1:7080 are served by one net.Listener and one
// [http.Server].
//
// [Acquire] returns a handle on the server for a host:port, starting the server on first use:
//
//	srv, err := httpmux.Acquire(ctx, "127.0.0.1:7080", nil)
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
// connection; their timeouts are [ReadHeaderTimeout] and [IdleTimeout]; there is no read or
// write timeout for whole requests, so streaming responses (SSE, NDJSON) are possible, and
// handlers bound their own work. The server never prints: its error log is discarded.
package httpmux
