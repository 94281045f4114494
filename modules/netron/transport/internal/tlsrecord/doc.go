// Package tlsrecord follows the TLS record framing of the bytes a server reads from a socket,
// beneath crypto/tls, so that the frame clocks of the transports can run from the first byte of
// a message on the wire: a *tls.Conn reads a record whole before it returns any of it, and a
// peer that stops inside a record would otherwise wait unseen (RFC 8446 §5.1: a record is a
// 5-byte header in the clear, of which the last two give the length of the body that follows).
package tlsrecord
