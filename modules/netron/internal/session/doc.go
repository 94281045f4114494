// Package session is the connection engine of Netron, between the
// transports and the services: what one connection needs whatever is
// served on it. It is a layer of its own — it imports protocol and
// transport, never the engine above — so that each piece has its own type,
// file and tests:
//
//   - [Queue] (queue.go): the send queue of a connection, a lock-free stack
//     of encoded messages that one writer goroutine takes in one swap and
//     writes in batches, bounded in bytes per connection and, through a
//     shared [Budget], per Netron; senders over a bound wait for room (TCP
//     back-pressure reaches them) and a peer that reads nothing for the
//     stall timeout is reported.
//   - [Buf] (buf.go): an encoded message on its way out, pooled; a stream's
//     items join the buffer of the previous item while the writer has not
//     taken it ([Appender]).
//   - [Pending] (pending.go): the calls a connection waits answers for,
//     by request id, with their deadlines ([Sweeper]).
//   - [Reader] (reader.go, frames.go): reads the connection, tells the
//     handshake from packets, splits packets under the limits and keeps
//     their frames (pooled for requests and answers, carved from a slab
//     for small stream items), handing each to the engine's [Handler].
//   - [Inbounds] (inbound.go): the streams the peer produces for this
//     side, their items put back in order for one reader each, bounded in
//     number, items ahead of their turn and time unclaimed.
//   - [Outbounds] and [Credit] (outbound.go): the streams a connection
//     produces, bounded in number (checked and filed in one step), each
//     with the window of items its reader grants.
//   - [Served] (served.go): the requests a connection serves, a slot
//     each out of a fixed number (the reader waits for one), found by id
//     for the peer's cancel, all handed back when the connection ends.
//
// The engine maps what this package reports to its coded errors: a
// [FrameTooLargeError] is resource_exhausted, a write failure unavailable.
package session
