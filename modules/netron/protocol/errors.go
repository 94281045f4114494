package protocol

import (
	"errors"
	"strconv"
)

// Sentinel errors returned (wrapped) by the decoders and encoders. Match them
// with [errors.Is]; the wrapping error names the problem and the offset.
var (
	// ErrTruncated reports input that ends in the middle of a packet or value.
	ErrTruncated = errors.New("protocol: truncated input")
	// ErrTrailingBytes reports bytes left over after a complete packet or value.
	ErrTrailingBytes = errors.New("protocol: trailing bytes")
	// ErrTooLarge reports a frame above Limits.MaxFrameSize, or a value too large
	// to be represented on the wire (a map with 65 536 keys or more, a BigInt of
	// more than MaxBigIntDigits digits, a JSON number beyond the float64 range).
	ErrTooLarge = errors.New("protocol: too large")
	// ErrTooDeep reports nesting beyond Limits.MaxDepth.
	ErrTooDeep = errors.New("protocol: nesting too deep")
	// ErrUnknownType reports a packet whose type nibble is 8–15. Such packets are
	// dropped: the netron-browser decoder refuses them and no peer sends them.
	ErrUnknownType = errors.New("protocol: unknown packet type")
	// ErrUnsupported reports a format or value the Netron profile does not carry:
	// map32, unregistered extension types, Go values with no wire form.
	ErrUnsupported = errors.New("protocol: not supported")
	// ErrMalformed reports bytes that no Netron encoder produces and no Netron
	// decoder accepts (0xc1, fixext1 type 0 with a non-zero byte, bad extension
	// contents).
	ErrMalformed = errors.New("protocol: malformed")
	// ErrTypeMismatch reports a well-formed value that cannot be stored in the
	// Go target given to [Unmarshal].
	ErrTypeMismatch = errors.New("protocol: type mismatch")
)

// DecodeError is the error returned by the decoders. Offset is the byte offset
// in the decoded input (for packets: in the whole frame) where the problem was
// found; Err is one of the sentinel errors above.
type DecodeError struct {
	Offset int
	Msg    string
	Err    error
}

// Error formats the error as "protocol: <problem> at offset <n>".
func (e *DecodeError) Error() string {
	return "protocol: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(off int, sentinel error, msg string) error {
	return &DecodeError{Offset: off, Msg: msg, Err: sentinel}
}
