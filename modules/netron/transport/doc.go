// Package transport defines how Netron moves messages between peers, independent of the medium.
//
// A [Transport] listens on and dials URL addresses such as tcp://127.0.0.1:7070,
// unix:///run/app.sock or mem://calculator. It yields message-oriented [Conn] values: each
// message is one Netron packet or one JSON handshake text, and the transport keeps message
// boundaries (stream sockets use the u32 big-endian length prefix of NETRON-WIRE.md §3.2).
//
// Transports register themselves by URL scheme from their package's init function, so importing
// a transport package is enough to make its schemes dialable:
//
//	import _ "github.com/titanframework/titan/modules/netron/transport/tcp"
//
//	conn, err := transport.Dial(ctx, "tcp://127.0.0.1:7070", transport.Options{})
//
// Registering one scheme twice panics at start-up. In an fx application, transports are also
// offered to Netron through the value group "titan.netron.transports"; see [AsTransport].
//
// The shared length-prefix framing lives in package framed; the in-process transport (package
// mem) carries encoded bytes so tests exercise the codec, and package transporttest holds the
// conformance suite every transport runs.
package transport
