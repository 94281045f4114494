package ws

import (
	"encoding/binary"
	"time"

	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

// readClock times the messages an accepted connection receives ([transport.Options]
// FrameTimeout and FrameMinRate). It follows the WebSocket frame headers (RFC 6455 §5.2) in
// the bytes read from the connection, under the library, so it knows whether a message, or a
// control frame, has begun and not ended: from then until its end the connection has a read
// deadline. Reads that end between messages set nothing. Only the reading goroutine uses it.
//
// As on the framed transport, a message's clock runs only while ReadMessage waits for its
// bytes. The library reads ahead, so the first bytes of the next message may arrive during
// the ReadMessage of the one before; the engine may come back for it much later (while it
// waits for a call slot, say). So the clock notes the ReadMessage call it times, and the
// first read of a later call (see resume) starts it afresh.
//
// Over wss the connection read is a *tls.Conn, which reads a TLS record whole before it
// returns any of it. So the clock also follows the records read from the socket beneath
// (records, told by [tlsrecord.Conn] through corkConn): a read from the socket that must wait
// for the rest of a record starts the clock when it is not running, and while it runs the
// bytes of the records are what counts for the minimum rate.
type readClock struct {
	clock   limit.FrameClock
	call    uint64          // the ReadMessage call the clock was started in (corkConn.calls)
	got     int             // bytes of the message timed, for restarts
	records *tlsrecord.Conn // the socket under TLS; nil without TLS

	hdr        [14]byte // the header being gathered
	hlen       int
	left       uint64 // payload bytes left in the current frame
	fragmented bool   // inside a message of several frames
	expired    bool   // a read failed at the deadline
}

// idle reports whether the bytes so far end between messages.
func (r *readClock) idle() bool { return r.hlen == 0 && r.left == 0 && !r.fragmented }

// scan follows the frames in p. ended reports that a message or control frame ended in p;
// busy that p ends inside one.
func (r *readClock) scan(p []byte) (ended, busy bool) {
	for len(p) > 0 {
		if r.left > 0 {
			k := uint64(len(p))
			if k > r.left {
				k = r.left
			}
			r.left -= k
			p = p[k:]
			ended = ended || r.idle()
			continue
		}
		r.hdr[r.hlen] = p[0]
		r.hlen++
		p = p[1:]
		if r.hlen < 2 {
			continue
		}
		need := 2
		switch r.hdr[1] & 0x7f {
		case 126:
			need += 2
		case 127:
			need += 8
		}
		if r.hdr[1]&0x80 != 0 {
			need += 4 // the mask key
		}
		if r.hlen < need {
			continue
		}
		switch n := r.hdr[1] & 0x7f; n {
		case 126:
			r.left = uint64(binary.BigEndian.Uint16(r.hdr[2:4]))
		case 127:
			r.left = binary.BigEndian.Uint64(r.hdr[2:10]) // the library refuses what is too long
		default:
			r.left = uint64(n)
		}
		if op := r.hdr[0] & 0x0f; op < 0x8 { // a data frame: a message ends with its FIN frame
			r.fragmented = r.hdr[0]&0x80 == 0
		}
		r.hlen = 0
		ended = ended || r.idle()
	}
	return ended, !r.idle()
}

// deadliner is the part of net.Conn the clock sets.
type deadliner interface{ SetReadDeadline(time.Time) error }

// resume restarts the clock, and c's read deadline, when a message is being timed and call,
// the ReadMessage call about to read from c, is not the one the clock was started in: that
// message began in the read-ahead of an earlier call, and its time runs from now.
func (r *readClock) resume(c deadliner, call uint64) {
	if !r.clock.Running() || r.call == call {
		return
	}
	r.call = call
	_ = c.SetReadDeadline(r.clock.Start(time.Now(), r.got))
}

// read follows p, bytes just read from c in ReadMessage call call, and sets or clears c's
// read deadline.
func (r *readClock) read(c deadliner, p []byte, call uint64) {
	ended, busy := r.scan(p)
	switch {
	case busy && (ended || !r.clock.Running()): // a message began
		r.call, r.got = call, len(p)
		_ = c.SetReadDeadline(r.clock.Start(time.Now(), len(p)))
	case busy:
		if r.records != nil {
			return // counted on the wire (arrived)
		}
		r.got += len(p)
		if d, ok := r.clock.Progress(len(p)); ok {
			_ = c.SetReadDeadline(d)
		}
	case r.clock.Running(): // the message ended
		r.clock.Stop()
		_ = c.SetReadDeadline(time.Time{})
	}
}

// reading starts the clock and c's read deadline, in ReadMessage call call, when a read from
// the socket under TLS is to wait for the rest of a record (pending bytes of it have arrived)
// and no message is timed: a message, or a control frame, has begun on the wire.
func (r *readClock) reading(c deadliner, pending int, call uint64) {
	if pending == 0 || r.clock.Running() {
		return
	}
	r.call, r.got = call, pending
	_ = c.SetReadDeadline(r.clock.Start(time.Now(), pending))
}

// arrived counts n bytes read from the socket under TLS for the message timed.
func (r *readClock) arrived(c deadliner, n int) {
	if !r.clock.Running() {
		return
	}
	r.got += n
	if d, ok := r.clock.Progress(n); ok {
		_ = c.SetReadDeadline(d)
	}
}

// detail says, for [limit.FrameClock.Expired], how the bytes were counted and where they
// stopped.
func (r *readClock) detail() string {
	if r.records == nil {
		return ""
	}
	d := "counted in TLS records"
	if s := r.records.Stalled(); s != "" {
		d += "; " + s
	}
	return d
}
