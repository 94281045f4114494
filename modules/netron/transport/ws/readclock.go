package ws

import (
	"encoding/binary"
	"time"

	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
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
type readClock struct {
	clock limit.FrameClock
	call  uint64 // the ReadMessage call the clock was started in (corkConn.calls)
	got   int    // bytes of the message timed, for restarts

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
		r.got += len(p)
		if d, ok := r.clock.Progress(len(p)); ok {
			_ = c.SetReadDeadline(d)
		}
	case r.clock.Running(): // the message ended
		r.clock.Stop()
		_ = c.SetReadDeadline(time.Time{})
	}
}
