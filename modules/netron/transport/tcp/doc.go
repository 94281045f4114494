// Package tcp is the Netron transport for TCP, schemes "tcp" and "tls" (TCP with TLS), with the length-prefix framing of
// package framed and optional TLS ([transport.Options.TLS]).
//
// Importing the package registers the transport:
//
//	import _ "github.com/titanframework/titan/modules/netron/transport/tcp"
//
// Addresses are tcp://host:port; a listener on port 0 reports the chosen port in its Addr.
// They take no query: one is refused rather than ignored (tcp://host:7070?tls=1 is no TLS).
// Connections use Go's defaults: TCP_NODELAY on, keep-alive probes every 15 s.
package tcp
