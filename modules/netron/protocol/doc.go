// Package protocol implements the Netron wire format: packets and the Netron
// MessagePack profile, byte-compatible with the original TypeScript Netron
// (shared/protocol/NETRON-WIRE.md §2 and §9–§10, checked against the vectors
// in shared/protocol/vectors.json).
//
// # Packets
//
// A [Packet] is a 4-byte id, a flags byte (type nibble, eos, live, impulse,
// error), exactly one MessagePack value, and for [TypeStream] packets the
// stream id and index. [AppendPacket] encodes into a caller-supplied buffer;
// [DecodePacket] decodes into the generic model and [SplitPacket] validates a
// frame and returns its payload still encoded; [SplitArray] splits the
// positional CALL payload into its elements without copying, for [Unmarshal]
// into typed Go values. The decoders are as strict as the stricter TypeScript decoder:
// truncated frames, trailing bytes and type nibbles 8–15 ([ErrUnknownType])
// are refused.
//
// # Bounds
//
// Decoders take [Limits]: frames above MaxFrameSize (16 MiB by default) are
// refused before decoding, nesting deeper than MaxDepth (128) fails with
// [ErrTooDeep], and every length or count is checked against the bytes that
// remain before anything is allocated (an array header claiming 2^32 elements
// in a 10-byte input fails with [ErrTruncated] without allocating), so memory
// stays proportional to the input. Decoders never panic on input; errors are
// [*DecodeError] values naming the problem and the offset, matchable with
// [errors.Is] against the exported sentinels.
//
// # Generic value model
//
// [DecodeValue], [DecodePacket] and Unmarshal into an interface produce:
//
//	null            nil
//	undefined       Undefined{}
//	bool            bool
//	integers        int64; uint64 only above math.MaxInt64
//	float32/64      float64
//	str             string (invalid UTF-8 replaced by U+FFFD, as TypeScript does)
//	bin             []byte (a copy)
//	array           []any
//	map             Object (string keys in wire order; other scalar keys are
//	                converted as JavaScript property names, e.g. 1 -> "1",
//	                nil -> "null"; container keys are refused)
//	Date (125)      time.Time in UTC, millisecond precision
//	Map (124)       Map        Set (123)   Set
//	BigInt (120)    *big.Int   Long (119)  Long       RegExp (121)  RegExp
//	Error (126)     *JSError   TitanError (110)       *TitanError
//	Definition (109) *Definition  Reference (108) Reference
//	StreamReference (107) StreamReference
//
// Every value of the model re-encodes to the bytes it was decoded from when
// those bytes are what a Netron encoder writes (all vectors do); inputs that
// no encoder writes (non-minimal headers, float64 carrying small integers,
// duplicate map keys) are normalised.
//
// # Numbers
//
// JavaScript numbers follow §9.1 exactly: integers in the uint32 or int32
// range use the smallest integer format, every other number is float64 (so
// 2^32 is cb 41f0000000000000, -0 is 00 and NaN is cb 7ff8000000000000). Go
// integer values whose magnitude is at most 2^53 follow the same rule; beyond
// ±2^53 they are written as uint64 (cf, non-negative) or int64 (d3, negative),
// which the TypeScript decoders accept, so Go peers never lose precision.
// float32 and float64 values are JavaScript numbers. Float32, uint64 and int64
// formats are accepted on input.
//
// # Encoding Go values
//
// [Marshal] and [AppendValue] accept the generic model and ordinary Go values
// by reflection, with one encoder per type built on first use and cached:
//
//   - structs become maps keyed by their json tag names in field order, with
//     omitempty and omitzero honoured, "-" skipped and embedded structs
//     flattened as encoding/json does (json.Marshaler is not consulted);
//   - maps with string or integer keys become maps with keys in sorted order;
//     other key types need [Map];
//   - slices and arrays become arrays, []byte becomes bin; nil slices and maps
//     are written as empty containers (TypeScript code indexes them without
//     null checks), nil pointers and interfaces as null;
//   - time.Time becomes a Date, the zero time null; times before 1970 have no
//     Date form (TypeScript cannot encode them either) and fail;
//   - *big.Int becomes a BigInt (at most [MaxBigIntDigits] digits);
//   - a Go error that is none of the Netron error types becomes a standard
//     Error (ext 126) with class Error, its message and no stack.
//
// Maps of 65 536 keys or more fail with [ErrTooLarge] (TypeScript refuses
// map32), nesting deeper than [DefaultMaxDepth] or cyclic pointers with
// [ErrTooDeep], channels and functions with [ErrUnsupported].
//
// [Unmarshal] decodes directly into Go types with cached per-type decoders,
// without building the generic tree; integers are range-checked, and a
// float64 with an integral value fills an integer (JavaScript sends integers
// beyond 32 bits as float64).
//
// # Errors on the wire
//
// [TitanError] carries the 13 fields of ext 110 (§10.2); the category and
// HTTP status TypeScript derives are methods. The Go engine's own code name
// travels in Extras under [ExtraGoCode], a property the TypeScript decoder
// copies onto the error object and otherwise ignores. [JSError] is a standard
// JavaScript Error (ext 126).
//
// # JSON
//
// This package owns the one mapping between Netron values and JSON
// (§11.1), both ways, used by validation, the HTTP gateway and its client,
// and the command line: [ToJSON] (values to encoding/json's shapes, for the
// general validator) and [AppendValueJSON] (values to JSON text, keys in
// order; [AppendJSONString] for strings) one way; [AppendJSON] (JSON text
// straight to MessagePack) and [FromJSON] (encoding/json's shapes to
// values) the other. The text writer takes every rule from ToJSON's own
// converter; FuzzJSONText holds the two to the same meaning, and
// FuzzAppendJSON holds AppendJSON to encoding/json with FromJSON. A Go
// value (a struct, a typed slice or map) is written by a writer compiled
// for its type, which writes what encoding the value and writing that
// encoding would (FuzzGoJSON holds the two to the same bytes) and leaves
// the types with an encoding of their own to that path.
//
// Deliberate differences from the TypeScript decoders: packet types 8–15 are
// refused (the titan decoder accepts them), trailing bytes are refused (the
// browser decoder ignores them), a Date beyond the JavaScript range, a Long or
// StreamReference flag byte other than 0 or 1, and map keys that are
// containers or extension values are refused, and uint64/int64 values keep
// every bit instead of becoming lossy numbers.
//
// All functions are safe for concurrent use.
package protocol
