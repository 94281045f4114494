// Package mem is the in-process Netron transport, scheme "mem", for tests, benchmarks and
// services that talk within one process.
//
// Importing the package registers the transport:
//
//	import _ "github.com/titanframework/titan/modules/netron/transport/mem"
//
// Addresses are mem://name (or mem:name); names are made of letters, digits and "-._~". They
// take no query: one is refused rather than ignored.
// Listeners live in one namespace per process: Dial connects to the listener of that name,
// and Listen on mem:// (empty name) picks a unique name, reported by Addr, the way port 0 does
// for TCP.
//
// Messages are copied on write, so the peers share no memory and the codec runs as it would
// over a socket. Each direction buffers at most 256 unread messages or 4 MiB of unread bytes
// (a single larger message is let through alone); a writer blocks beyond that until the reader
// catches up, so a slow reader applies back-pressure instead of growing memory. Both sides
// enforce their own [transport.Options.MaxFrameSize] as a stream transport does: the writer
// refuses an oversized message, and a reader given one by a peer with a larger limit closes
// the connection. TLS is not supported.
package mem
