package protocol

// Default limits applied when a [Limits] field is zero or negative.
const (
	// DefaultMaxFrameSize is the largest packet (or value) accepted: 16 MiB,
	// the default maxPacketSize of the TypeScript server (NETRON-WIRE.md §2.6).
	DefaultMaxFrameSize = 16 << 20
	// DefaultMaxDepth is the deepest nesting of arrays, maps and value-carrying
	// extensions accepted by the decoders and produced by the encoders.
	DefaultMaxDepth = 128
	// MaxBigIntDigits bounds the decimal string of a BigInt (ext 120) so that
	// parsing stays cheap; longer strings fail with [ErrTooLarge].
	MaxBigIntDigits = 4096
)

// Limits bounds what a decoder accepts. The zero value means the defaults.
//
// MaxFrameSize is the largest input in bytes (a larger input fails with
// [ErrTooLarge] before any decoding). MaxDepth is the deepest nesting: a
// scalar at depth 0, each array, map or value-carrying extension (everything
// but Date and Long) adds one level; MaxDepth levels are accepted and one more
// fails with [ErrTooDeep].
type Limits struct {
	MaxFrameSize int
	MaxDepth     int
}

func (l Limits) frameSize() int {
	if l.MaxFrameSize <= 0 {
		return DefaultMaxFrameSize
	}
	return l.MaxFrameSize
}

func (l Limits) depth() int {
	if l.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return l.MaxDepth
}
