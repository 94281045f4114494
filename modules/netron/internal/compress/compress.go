// Package compress is the message compression of Titan's Go-to-Go
// extension: a message of at least a threshold's size leaves as an
// envelope holding it compressed with zstd or s2 (klauspost/compress),
// when the receiver announced that it decodes that algorithm.
//
// An envelope is a message of the Netron framing whose flags byte is
// FlagsEnvelope (type 8, which no Netron packet uses):
//
//	offset 0  4 bytes  the length of the message it holds, u32 big-endian
//	offset 4  1 byte   0x08
//	offset 5  1 byte   the algorithm: 1 zstd, 2 s2
//	offset 6  ...      the compressed message
//
// The declared length bounds the decoding: an envelope declaring more
// than the receiver's frame limit, or whose contents decode to another
// length, is refused without allocating more than the limit. What it
// declares is allocated only once its data could decode to that much
// (zstd: a block of at least 4 bytes per 128 KiB; s2: at most 32 bytes
// per byte, or its elements, walked without being written, make that
// much), so a few forged bytes cost a few bytes.
package compress

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Algorithm is a compression algorithm of the extension.
type Algorithm byte

// The algorithms, by the byte that names them in an envelope.
const (
	None Algorithm = 0
	Zstd Algorithm = 1
	S2   Algorithm = 2
)

// FlagsEnvelope is the flags byte of an envelope.
const FlagsEnvelope = 0x08

// headerLen is the envelope's header: length, flags, algorithm.
const headerLen = 6

// Names are the algorithms a Codec decodes, as announced in the handshake.
var Names = []string{"zstd", "s2"}

// Parse returns the algorithm called name ("none", "zstd" or "s2").
func Parse(name string) (Algorithm, error) {
	switch name {
	case "", "none":
		return None, nil
	case "zstd":
		return Zstd, nil
	case "s2":
		return S2, nil
	}
	return None, fmt.Errorf("unknown compression algorithm %q (want none, s2 or zstd)", name)
}

// String returns the algorithm's name.
func (a Algorithm) String() string {
	switch a {
	case None:
		return "none"
	case Zstd:
		return "zstd"
	case S2:
		return "s2"
	}
	return fmt.Sprintf("algorithm(%d)", byte(a))
}

// Accepts reports whether names, a peer's announced list, holds a.
func (a Algorithm) Accepts(names []string) bool {
	for _, n := range names {
		if n == a.String() {
			return a != None
		}
	}
	return false
}

// Codec compresses and decompresses envelopes for one Netron. Its zstd
// coders are made on first use (s2 needs none); they run no goroutine
// (EncodeAll and DecodeAll only), so the garbage collector reclaims them
// with the codec. Safe for concurrent use.
type Codec struct {
	maxFrame int

	encOnce sync.Once
	enc     *zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
}

// NewCodec returns a codec that decodes envelopes of at most maxFrame
// bytes once decompressed.
func NewCodec(maxFrame int) *Codec { return &Codec{maxFrame: maxFrame} }

func (c *Codec) encoder() *zstd.Encoder {
	c.encOnce.Do(func() {
		// The fastest level: the extension trades little CPU for bytes on
		// the wire; errors are impossible with these options.
		c.enc, _ = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithZeroFrames(true))
	})
	return c.enc
}

func (c *Codec) decoder() *zstd.Decoder {
	c.decOnce.Do(func() {
		c.dec, _ = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithDecoderMaxMemory(uint64(c.maxFrame)),
			zstd.WithDecodeAllCapLimit(true))
	})
	return c.dec
}

// Compress appends to dst the envelope of msg compressed with a, and
// reports whether it is worth sending: at least an eighth smaller than
// msg. When it is not, dst comes back with what it held.
func (c *Codec) Compress(dst []byte, a Algorithm, msg []byte) ([]byte, bool) {
	if uint64(len(msg)) > 0xFFFFFFFF {
		return dst, false
	}
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	dst = append(dst, FlagsEnvelope, byte(a))
	switch a {
	case Zstd:
		dst = c.encoder().EncodeAll(msg, dst)
	case S2:
		dst = appendS2(dst, msg)
	default:
		return dst[:start], false
	}
	if n := len(dst) - start; n >= len(msg)-len(msg)/8 {
		return dst[:start], false
	}
	return dst, true
}

// appendS2 appends the s2 block encoding of msg to dst.
func appendS2(dst, msg []byte) []byte {
	need := s2.MaxEncodedLen(len(msg))
	if need < 0 {
		return dst
	}
	dst = grow(dst, need)
	out := s2.Encode(dst[len(dst):len(dst)+need], msg)
	return dst[:len(dst)+len(out)]
}

// grow makes room for n more bytes in b.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}

// IsEnvelope reports whether msg is an envelope (by its flags byte; a
// packet never has type 8).
func IsEnvelope(msg []byte) bool { return len(msg) >= 5 && msg[4] == FlagsEnvelope }

// ErrMalformed is the error of an envelope that cannot be decoded.
var ErrMalformed = errors.New("malformed compressed message")

// Decompress appends the message env holds to dst[:0]. It refuses, with
// an error matching ErrMalformed that says why, an envelope that is too
// short, names an unknown algorithm, declares more than the codec's frame
// limit or holds data that does not decode to the declared length.
func (c *Codec) Decompress(dst, env []byte) ([]byte, error) {
	if len(env) < headerLen {
		return dst, fmt.Errorf("%w: %d bytes, shorter than its %d-byte header", ErrMalformed, len(env), headerLen)
	}
	size := int(binary.BigEndian.Uint32(env))
	if size > c.maxFrame {
		return dst, fmt.Errorf("%w: it declares %d bytes, over the frame limit of %d", ErrMalformed, size, c.maxFrame)
	}
	body := env[headerLen:]
	var (
		out []byte
		err error
	)
	// What an envelope declares is allocated only once its data is known
	// able to decode to it: a few forged bytes must not make the reader
	// allocate the frame limit.
	switch a := Algorithm(env[5]); a {
	case Zstd:
		if most := zstdMaxDecoded(len(body)); size > most {
			return dst, fmt.Errorf("%w (zstd): %d bytes of data cannot decode to the %d declared (at most %d)", ErrMalformed, len(body), size, most)
		}
		out, err = c.decoder().DecodeAll(body, room(dst, size))
	case S2:
		if err = s2Check(body, size); err == nil {
			out, err = s2.Decode(room(dst, size)[:size], body)
		}
	default:
		return dst, fmt.Errorf("%w: unknown algorithm %d", ErrMalformed, byte(a))
	}
	if err != nil {
		return dst, fmt.Errorf("%w (%s): %v", ErrMalformed, Algorithm(env[5]), err)
	}
	if len(out) != size {
		return dst, fmt.Errorf("%w (%s): %d bytes decoded, declared %d", ErrMalformed, Algorithm(env[5]), len(out), size)
	}
	return out, nil
}

// room returns dst emptied, with a capacity of exactly size when it has
// less (zstd decoding is limited to the capacity it is given).
func room(dst []byte, size int) []byte {
	if cap(dst) < size {
		return make([]byte, 0, size)
	}
	return dst[:0:size]
}

// zstdBlockMax is the most a zstd block decodes to (the format's
// Block_Maximum_Size, which the decoder enforces).
const zstdBlockMax = 128 << 10

// zstdMaxDecoded bounds what n bytes of zstd frames decode to: a block
// that decodes to anything takes at least 4 bytes (a 3-byte header and
// at least a byte of content) and decodes to at most 128 KiB.
func zstdMaxDecoded(n int) int { return n / 4 * zstdBlockMax }

// s2Check reports s2 data that does not decode to size bytes, by its
// length header, and when size is over s2Direct times its length, by
// walking its elements without writing them ([s2Walk]): the header alone
// costs nothing to forge, and a repeat of 5 bytes makes up to 16 MiB.
func s2Check(data []byte, size int) error {
	n, err := s2.DecodedLen(data)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("s2 data of %d bytes, declared %d", n, size)
	}
	if size <= s2Direct*len(data) {
		return nil
	}
	_, s := binary.Uvarint(data)
	return s2Walk(data[s:], size)
}

// s2Direct is the most s2 data decodes to, per byte, without the walk
// of its elements first: ordinary data makes a few bytes per byte, and
// the walk costs about as much as the decoding.
const s2Direct = 32

// s2Walk returns s2.ErrCorrupt unless src, the elements of an s2 block
// (what follows its length header), make exactly size bytes as s2.Decode
// decodes them; it writes none of them.
func s2Walk(src []byte, size int) error {
	d, offset := 0, 0 // the bytes made, and the last copy's offset
	for s := 0; s < len(src); {
		tag := src[s]
		var length int
		switch tag & 3 {
		case 0: // literal, its length in the tag or in the 1 to 4 bytes after it
			length = int(tag >> 2)
			s++
			if length >= 60 {
				k := length - 59
				if s+k > len(src) {
					return s2.ErrCorrupt
				}
				length = leUint(src[s : s+k])
				s += k
			}
			length++
			if length > len(src)-s || length > size-d {
				return s2.ErrCorrupt
			}
			s += length
			d += length
			continue
		case 1: // copy with an 11-bit offset, or a repeat of the last offset
			if s+2 > len(src) {
				return s2.ErrCorrupt
			}
			length = int(tag >> 2 & 7)
			off := int(tag&0xe0)<<3 | int(src[s+1])
			s += 2
			if off != 0 {
				offset = off
			} else if length >= 5 { // a repeat's length in 1 to 3 more bytes
				k := length - 4
				if s+k > len(src) {
					return s2.ErrCorrupt
				}
				length = leUint(src[s:s+k]) + [...]int{4, 1 << 8, 1 << 16}[k-1]
				s += k
			}
			length += 4
		case 2: // copy with a 16-bit offset
			if s+3 > len(src) {
				return s2.ErrCorrupt
			}
			length = 1 + int(tag>>2)
			offset = int(src[s+1]) | int(src[s+2])<<8
			s += 3
		case 3: // copy with a 32-bit offset
			if s+5 > len(src) {
				return s2.ErrCorrupt
			}
			length = 1 + int(tag>>2)
			offset = int(binary.LittleEndian.Uint32(src[s+1:]))
			s += 5
		}
		if offset <= 0 || d < offset || length > size-d {
			return s2.ErrCorrupt
		}
		d += length
	}
	if d != size {
		return s2.ErrCorrupt
	}
	return nil
}

// leUint returns the little-endian number in b (at most 4 bytes).
func leUint(b []byte) int {
	x := 0
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | int(b[i])
	}
	return x
}
