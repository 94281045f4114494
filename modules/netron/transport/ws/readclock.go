package ws

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
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
//
// Frame headers and control frames count for the minimum rate too, but they do not make the
// message any larger: a peer could keep a message open for ever with empty continuation
// frames sent just fast enough. So a message must also be complete within total (see
// messageBound), the time the largest message takes at the minimum rate.
type readClock struct {
	clock   limit.FrameClock
	total   time.Duration   // a message's time in all; 0: no bound beyond clock
	started time.Time       // when the clock was last started
	bounded bool            // the deadline was cut at started+total
	size    int             // the largest message, for detail
	call    uint64          // the ReadMessage call the clock was started in (corkConn.calls)
	got     int             // bytes of the message timed, for restarts
	records *tlsrecord.Conn // the socket under TLS; nil without TLS

	hdr        [14]byte // the header being gathered
	hlen       int
	left       uint64 // payload bytes left in the current frame
	fragmented bool   // inside a message of several frames
	expired    bool   // a read failed at the deadline
}

// messageBound returns the longest a message may take in all on a connection whose messages
// are at most limit bytes: timeout, and then the time limit bytes take at rate, with room
// for the frame headers and, over wss, the TLS records (1/16). It returns 0, no bound, when
// the rate is zero or the bound does not fit a Duration.
func messageBound(timeout time.Duration, rate transport.Rate, limit int) time.Duration {
	if rate.Bytes <= 0 || rate.Per <= 0 || limit <= 0 {
		return 0
	}
	wire := uint64(limit) + uint64(limit)/16 + 14
	n := (wire + uint64(rate.Bytes) - 1) / uint64(rate.Bytes)
	if n > uint64(math.MaxInt64-timeout)/uint64(rate.Per) {
		return 0
	}
	return timeout + time.Duration(n)*rate.Per
}

// start starts the clock for a message whose first got bytes arrived now, and returns its
// deadline.
func (r *readClock) start(got int) time.Time {
	now := time.Now()
	r.started, r.bounded = now, false
	return r.clock.Start(now, got)
}

// progress counts n bytes of the message timed; it returns the deadline to set and true when
// it moved, cut at the message's bound in all.
func (r *readClock) progress(n int) (time.Time, bool) {
	d, ok := r.clock.Progress(n)
	switch {
	case !ok || r.bounded:
		return time.Time{}, false
	case r.total <= 0:
		return d, true
	}
	if end := r.started.Add(r.total); d.After(end) {
		r.bounded = true
		return end, true
	}
	return d, true
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
	_ = c.SetReadDeadline(r.start(r.got))
}

// read follows p, bytes just read from c in ReadMessage call call, and sets or clears c's
// read deadline.
func (r *readClock) read(c deadliner, p []byte, call uint64) {
	ended, busy := r.scan(p)
	switch {
	case busy && (ended || !r.clock.Running()): // a message began
		r.call, r.got = call, len(p)
		_ = c.SetReadDeadline(r.start(len(p)))
	case busy:
		if r.records != nil {
			return // counted on the wire (arrived)
		}
		r.got += len(p)
		if d, ok := r.progress(len(p)); ok {
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
	_ = c.SetReadDeadline(r.start(pending))
}

// arrived counts n bytes read from the socket under TLS for the message timed.
func (r *readClock) arrived(c deadliner, n int) {
	if !r.clock.Running() {
		return
	}
	r.got += n
	if d, ok := r.progress(n); ok {
		_ = c.SetReadDeadline(d)
	}
}

// detail says, for [limit.FrameClock.Expired], how the bytes were counted and where they
// stopped.
func (r *readClock) detail() string {
	var d []string
	if r.bounded {
		d = append(d, fmt.Sprintf("over %v in all, as long as the largest message (MaxFrameSize %d bytes) takes at FrameMinRate", r.total, r.size))
	}
	if r.records != nil {
		d = append(d, "counted in TLS records")
		if s := r.records.Stalled(); s != "" {
			d = append(d, s)
		}
	}
	return strings.Join(d, "; ")
}
