package protocol

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Type is a packet type code (the low nibble of the flags byte).
type Type uint8

// Packet types (NETRON-WIRE.md §2.3). Codes 8–15 are unused.
const (
	TypePing        Type = 0
	TypeGet         Type = 1
	TypeSet         Type = 2
	TypeCall        Type = 3
	TypeTask        Type = 4
	TypeStream      Type = 5
	TypeStreamError Type = 6
	TypeStreamClose Type = 7
)

var typeNames = [...]string{"PING", "GET", "SET", "CALL", "TASK", "STREAM", "STREAM_ERROR", "STREAM_CLOSE"}

// String returns the TypeScript name of the type ("CALL", "STREAM_ERROR", …),
// or "UNKNOWN(n)".
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

// Flag bits of the second header byte (NETRON-WIRE.md §2.2).
const (
	flagTypeMask = 0x0f
	flagEOS      = 0x10
	flagLive     = 0x20
	flagImpulse  = 0x40
	flagError    = 0x80
)

// headerSize is the id (4 bytes) plus the flags byte; trailerSize the
// streamId and streamIndex of STREAM packets.
const (
	headerSize  = 5
	trailerSize = 8
)

// Packet is one Netron packet: a 4-byte id, a flags byte, exactly one
// MessagePack value and, for STREAM packets only, the stream id and index.
//
// Impulse is set on requests and unsolicited messages, Error on error
// responses, EOS and Live on STREAM packets (they are carried for any type,
// as on the wire). StreamID and StreamIndex are written only when Type is
// TypeStream. Data is any value [AppendValue] accepts; a nil Data is written
// as null (c0), use [Undefined] for the JavaScript undefined.
type Packet struct {
	ID          uint32
	Type        Type
	Impulse     bool
	Error       bool
	EOS         bool
	Live        bool
	StreamID    uint32
	StreamIndex uint32
	Data        any
}

// Flags returns the flags byte of p.
func (p *Packet) Flags() byte {
	f := byte(p.Type) & flagTypeMask
	if p.EOS {
		f |= flagEOS
	}
	if p.Live {
		f |= flagLive
	}
	if p.Impulse {
		f |= flagImpulse
	}
	if p.Error {
		f |= flagError
	}
	return f
}

func (p *Packet) setFlags(f byte) {
	p.Type = Type(f & flagTypeMask)
	p.EOS = f&flagEOS != 0
	p.Live = f&flagLive != 0
	p.Impulse = f&flagImpulse != 0
	p.Error = f&flagError != 0
}

// AppendPacket appends the encoding of p to dst and returns the extended
// buffer, so callers can reuse pooled buffers. It fails with [ErrUnknownType]
// for types above 7 and with the encoder's error when Data cannot be encoded;
// on error it returns dst with its original length.
func AppendPacket(dst []byte, p *Packet) ([]byte, error) {
	if p.Type > TypeStreamClose {
		return dst, fmt.Errorf("%w: packet type %d", ErrUnknownType, p.Type)
	}
	b := binary.BigEndian.AppendUint32(dst, p.ID)
	b = append(b, p.Flags())
	// Scalar payloads (stream items, most results) are written by an
	// encoder on the stack; the others need the pooled one.
	if se := (encoder{buf: b}); se.scalar(p.Data) {
		b = se.buf
	} else {
		e := getEncoder(b)
		err := e.value(p.Data)
		b = e.buf
		putEncoder(e)
		if err != nil {
			return dst, err
		}
	}
	if p.Type == TypeStream {
		b = binary.BigEndian.AppendUint32(b, p.StreamID)
		b = binary.BigEndian.AppendUint32(b, p.StreamIndex)
	}
	return b, nil
}

// DecodePacket decodes one packet frame (as delimited by the transport) with
// the payload in the generic model. It is as strict as the stricter of the two
// TypeScript decoders: frames above lim.MaxFrameSize fail with [ErrTooLarge],
// type nibbles 8–15 with [ErrUnknownType], short frames and missing stream
// trailers with [ErrTruncated], and bytes after the packet with
// [ErrTrailingBytes]. The result does not alias b.
func DecodePacket(b []byte, lim Limits) (Packet, error) {
	p, err := packetHeader(b, lim)
	if err != nil {
		return Packet{}, err
	}
	d := decoder{b: b, off: headerSize, maxDepth: lim.depth()}
	if p.Data, err = d.value(); err != nil {
		return Packet{}, err
	}
	if err := packetTail(b, &p, d.off); err != nil {
		return Packet{}, err
	}
	return p, nil
}

// SplitPacket checks a packet frame exactly as [DecodePacket] does (the payload
// is fully validated, extension contents included) but leaves the payload
// encoded: Data is nil and the payload bytes are returned as a RawValue that
// aliases b, ready for [Unmarshal] into a typed target.
func SplitPacket(b []byte, lim Limits) (Packet, RawValue, error) {
	p, err := packetHeader(b, lim)
	if err != nil {
		return Packet{}, nil, err
	}
	d := decoder{b: b, off: headerSize, maxDepth: lim.depth()}
	if err := d.skip(); err != nil {
		return Packet{}, nil, err
	}
	if err := packetTail(b, &p, d.off); err != nil {
		return Packet{}, nil, err
	}
	return p, RawValue(b[headerSize:d.off:d.off]), nil
}

// SplitStreamPacket is [SplitPacket] for the receiver of stream items, which
// decodes each item with [Unmarshal] or its variants (they check what they
// decode as SplitPacket checks it, and refuse trailing bytes) or checks it
// with [CheckValue] before handing it on encoded. A STREAM packet's header
// and trailer are checked as SplitPacket checks them, and its payload,
// whatever lies between them, is returned without being walked a first
// time; every other packet is split by SplitPacket.
func SplitStreamPacket(b []byte, lim Limits) (Packet, RawValue, error) {
	if len(b) < headerSize || Type(b[4]&0x0f) != TypeStream {
		return SplitPacket(b, lim)
	}
	p, err := packetHeader(b, lim)
	if err != nil {
		return Packet{}, nil, err
	}
	end := len(b) - trailerSize
	if end <= headerSize {
		return Packet{}, nil, decodeErr(len(b), ErrTruncated, "stream packet truncated")
	}
	p.StreamID = binary.BigEndian.Uint32(b[end:])
	p.StreamIndex = binary.BigEndian.Uint32(b[end+4:])
	return p, RawValue(b[headerSize:end:end]), nil
}

// CheckValue checks that raw is exactly one value as [DecodeValue] would
// accept it (within lim, extension contents included, no trailing bytes),
// without decoding it.
func CheckValue(raw []byte, lim Limits) error {
	if len(raw) > lim.frameSize() {
		return decodeErr(0, ErrTooLarge, "value of "+strconv.Itoa(len(raw))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	d := decoder{b: raw, maxDepth: lim.depth()}
	if err := d.skip(); err != nil {
		return err
	}
	if d.off != len(raw) {
		return decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(raw)-d.off)+" trailing bytes")
	}
	return nil
}

func packetHeader(b []byte, lim Limits) (Packet, error) {
	var p Packet
	if len(b) > lim.frameSize() {
		return p, decodeErr(0, ErrTooLarge, "packet of "+strconv.Itoa(len(b))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	if len(b) < headerSize {
		return p, decodeErr(len(b), ErrTruncated, "packet header truncated")
	}
	p.ID = binary.BigEndian.Uint32(b)
	p.setFlags(b[4])
	if p.Type > TypeStreamClose {
		return p, decodeErr(4, ErrUnknownType, "packet type "+strconv.Itoa(int(p.Type)))
	}
	return p, nil
}

// packetTail reads the stream trailer (STREAM packets) after the payload that
// ends at end, and refuses anything after it.
func packetTail(b []byte, p *Packet, end int) error {
	rest := len(b) - end
	if p.Type == TypeStream {
		if rest < trailerSize {
			return decodeErr(end, ErrTruncated, "stream trailer truncated")
		}
		p.StreamID = binary.BigEndian.Uint32(b[end:])
		p.StreamIndex = binary.BigEndian.Uint32(b[end+4:])
		rest -= trailerSize
	}
	if rest != 0 {
		return decodeErr(len(b)-rest, ErrTrailingBytes, strconv.Itoa(rest)+" trailing bytes after the packet")
	}
	return nil
}

// SplitArray checks that raw is exactly one well-formed array (within lim)
// and appends its elements to dst as RawValues aliasing raw, without copying.
// It lets a caller decode the positional CALL payload [defId, method, args…]
// element by element into typed targets with [Unmarshal].
func SplitArray(raw []byte, dst []RawValue, lim Limits) ([]RawValue, error) {
	if len(raw) > lim.frameSize() {
		return dst, decodeErr(0, ErrTooLarge, "value of "+strconv.Itoa(len(raw))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	d := decoder{b: raw, maxDepth: lim.depth()}
	h, err := d.next()
	if err != nil {
		return dst, err
	}
	if h.k != kArray {
		return dst, decodeErr(0, ErrTypeMismatch, "expected an array, got "+headName(h))
	}
	if err := d.enter(0); err != nil {
		return dst, err
	}
	for range h.n {
		start := d.off
		if err := d.skip(); err != nil {
			return dst, err
		}
		dst = append(dst, RawValue(raw[start:d.off:d.off]))
	}
	if d.off != len(raw) {
		return dst, decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(raw)-d.off)+" trailing bytes")
	}
	return dst, nil
}

// AppendPacketHeader appends the id and flags byte of p: the start of its
// frame, for callers that encode the payload piece by piece (with
// [AppendArrayHeader], [AppendString] and [AppendValue]). A STREAM packet
// still needs its trailer (stream id and index, big-endian) after the value.
func AppendPacketHeader(dst []byte, p *Packet) []byte {
	dst = binary.BigEndian.AppendUint32(dst, p.ID)
	return append(dst, p.Flags())
}

// AppendArrayHeader appends the header of an array of n elements, which
// the caller appends next.
func AppendArrayHeader(dst []byte, n int) []byte {
	e := encoder{buf: dst}
	e.arrayHeader(n)
	return e.buf
}

// AppendString appends s as a MessagePack string.
func AppendString(dst []byte, s string) []byte {
	e := encoder{buf: dst}
	e.str(s)
	return e.buf
}
