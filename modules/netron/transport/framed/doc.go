// Package framed turns byte-stream connections into message connections with the length-prefix
// framing of NETRON-WIRE.md §3.2: every message is a u32 big-endian length followed by that many
// bytes. TCP, Unix domain sockets and Windows named pipes share it.
//
// [NewConn] wraps any [net.Conn] into a [transport.Conn], [NewListener] any [net.Listener] into a
// [transport.Listener]. Reading goes through a 64 KiB buffered reader and reuses one frame
// buffer; a declared length above the limit closes the connection, and a long frame's buffer
// grows only as its bytes arrive, so a lying length prefix cannot make the reader allocate the
// declared size up front. With a frame timeout (Config.Limits), a frame whose first byte has
// arrived must be complete in time: a read deadline is set only when a frame has begun and is
// not all in the read buffer. Over TLS served by a [Listener], a frame begins with the first
// byte of a TLS record on the socket, beneath TLS, so a peer that stops inside a record is cut
// too. A [Listener] also caps its connections, in total and per remote
// address, and runs TLS handshakes within a timeout before handing connections over. Writing
// packs each batch of messages into as few buffers as possible
// and issues them with one vectored write (writev) when the connection supports it.
package framed
