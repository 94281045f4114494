package framed

import (
	"time"

	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// wireClock is a [Conn] seen by the socket under its TLS layer (a [tlsrecord.Watcher]): crypto/tls
// reads a record whole before it returns any of it, so the frame clock follows the records
// read from the socket, in the reading goroutine (tls.Conn.Read calls it). A read that must
// wait for the rest of a record starts the clock when it is not running: a frame has begun on
// the wire, or the peer is sending something else, which must be complete in time too. Reads
// between records, as while the connection is idle, set nothing, and neither does a record that
// arrives whole. While the clock runs, the bytes of the records count for the minimum rate.
type wireClock Conn

// Reading starts the clock, and the socket's read deadline, when the read is to wait for the
// rest of a record (pending bytes of it have arrived) and no frame is timed.
func (w *wireClock) Reading(pending int) {
	c := (*Conn)(w)
	if pending == 0 || c.clock.Running() {
		return
	}
	_ = c.records.SetReadDeadline(c.clock.Start(time.Now(), pending))
}

// Arrived counts n bytes read from the socket, for BytesRead and for the frame being timed.
func (w *wireClock) Arrived(n int) {
	c := (*Conn)(w)
	c.read.Add(uint64(n))
	if !c.clock.Running() {
		return
	}
	if d, ok := c.clock.Progress(n); ok {
		_ = c.records.SetReadDeadline(d)
	}
}

var _ tlsrecord.Watcher = (*wireClock)(nil)
