// Package framed turns byte-stream connections into message connections with the length-prefix
// framing of NETRON-WIRE.md §3.2: every message is a u32 big-endian length followed by that many
// bytes. TCP, Unix domain sockets and Windows named pipes share it.
//
// [NewConn] wraps any [net.Conn] into a [transport.Conn], [NewListener] any [net.Listener] into a
// [transport.Listener]. Reading goes through a 64 KiB buffered reader and reuses one frame
// buffer; a declared length above the limit closes the connection, and a long frame's buffer
// grows only as its bytes arrive, so a lying length prefix cannot make the reader allocate the
// declared size up front. Writing packs each batch of messages into as few buffers as possible
// and issues them with one vectored write (writev) when the connection supports it.
package framed
