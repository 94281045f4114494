package session

import (
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/internal/compress"

	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Handler receives what a Reader reads, on the reader's goroutine.
type Handler interface {
	// Text handles a text message: the JSON handshake (NETRON-WIRE.md §4).
	// Before the first packet every message that looks like JSON comes
	// here (strict false: the handler reports a bad one itself); after it,
	// a message that is not a packet comes here first with strict set, and
	// goes to Bad unless Text accepts it (a client-id after an early
	// packet, §4.3).
	Text(msg []byte, strict bool) (ok bool)
	// Packet handles a packet. payload aliases the frame; frame, when not
	// nil, is the pool holder of a request's or an answer's frame, which
	// whoever is done with the payload last gives back with PutFrame.
	// Stream items and events are not pooled: their receivers keep them.
	Packet(pkt protocol.Packet, payload protocol.RawValue, frame *[]byte)
	// Bad handles a message that is not a packet (frame is the reader's
	// copy), with why.
	Bad(frame []byte, err error)
}

// Reader reads the messages of one connection and hands them to its
// Handler: it tells handshake text from packets, splits each packet under
// the limits, and keeps the frames (the transport reuses its buffer):
// requests and answers in pooled buffers, small stream items and events
// carved from a shared slab, large ones allocated to size.
type Reader struct {
	t      transport.Conn
	limits protocol.Limits
	h      Handler
	binary bool  // a packet has been read
	slab   *Slab // the slab small frames are carved from
	cur    *Slab // the slab of the message being handled, or nil
	reads  atomic.Uint64
	bytes  atomic.Uint64 // of the messages read, as they crossed the transport
	extra  atomic.Int64  // messages counted by Count, less the failed read

	// inflate decodes compressed envelopes once the Go-to-Go extension is
	// on (SetInflate); inflated is where they are decoded, kept between
	// messages while it is small.
	inflate  *compress.Codec
	inflated []byte
}

// keptInflated is the largest decoding buffer a Reader keeps between
// envelopes.
const keptInflated = 64 << 10

// SetInflate makes the reader decode compressed envelopes with c (see
// package compress); before, an envelope is a malformed packet. Call it
// before Run or from the Handler (on the reader's goroutine).
func (r *Reader) SetInflate(c *compress.Codec) { r.inflate = c }

// NewReader returns a reader of t for h.
func NewReader(t transport.Conn, limits protocol.Limits, h Handler) *Reader {
	return &Reader{t: t, limits: limits, h: h}
}

// Reads returns how many reads have returned (messages and the final
// error): the connection's idle check watches it.
func (r *Reader) Reads() uint64 { return r.reads.Load() }

// Received returns the messages read and their bytes, as they crossed the
// transport (compressed envelopes at their compressed size; without the
// transport's own framing).
func (r *Reader) Received() (msgs, bytes uint64) {
	return uint64(int64(r.reads.Load()) + r.extra.Load()), r.bytes.Load()
}

// Count counts a message of n bytes read from the transport before Run
// (the dialling side's handshake).
func (r *Reader) Count(n int) {
	r.extra.Add(1)
	r.bytes.Add(uint64(n))
}

// Run reads until a read fails, and returns its error (the transport's,
// io.EOF or net.ErrClosed for a connection that ended).
func (r *Reader) Run() error {
	for {
		msg, err := r.t.ReadMessage()
		r.reads.Add(1)
		if err != nil {
			r.extra.Add(-1) // a read, not a message
			return err
		}
		r.bytes.Add(uint64(len(msg)))
		if len(msg) == 0 {
			continue
		}
		if !r.binary && (msg[0] == '{' || msg[0] == '[') {
			r.h.Text(msg, false)
			continue
		}
		if r.inflate != nil && compress.IsEnvelope(msg) {
			out, err := r.inflate.Decompress(r.inflated, msg)
			if err != nil {
				r.h.Bad(append([]byte(nil), msg...), err)
				continue
			}
			if cap(out) <= keptInflated {
				r.inflated = out
			} else {
				r.inflated = nil
			}
			if msg = out; len(msg) == 0 {
				continue
			}
		}
		// The message buffer is reused by the next read: keep a copy.
		var (
			frame []byte
			h     *[]byte
		)
		r.cur = nil
		switch {
		case pooledFrame(msg):
			frame, h = getFrame(len(msg))
		case len(msg) <= maxSlabbed:
			frame = r.slabbed(len(msg))
		default:
			frame = make([]byte, len(msg))
		}
		copy(frame, msg)
		// A stream item's receiver checks it as it decodes it (or, kept
		// encoded, by protocol.CheckValue: netron's Stream.Next), so it is
		// not walked here first.
		pkt, payload, err := protocol.SplitStreamPacket(frame, r.limits)
		if err != nil {
			if frame[0] == '{' && r.h.Text(frame, true) {
				PutFrame(h)
				continue
			}
			r.h.Bad(frame, err)
			PutFrame(h)
			continue
		}
		r.binary = true
		r.h.Packet(pkt, payload, h)
	}
}
