package protocol

import (
	"strconv"
)

// Undefined is the JavaScript value undefined, encoded as d4 00 00 (fixext1
// type 0). It is distinct from nil, which is null (c0).
type Undefined struct{}

// Field is one key/value pair of an [Object].
type Field struct {
	Key   string
	Value any
}

// Object is a plain JavaScript object: a MessagePack map with string keys, in
// wire order. Decoding produces Object for every MessagePack map, so that
// re-encoding reproduces the original key order byte for byte. Keys are unique
// in a decoded Object (a duplicated key keeps its first position and its last
// value, as in JavaScript).
type Object []Field

// Get returns the value stored under key and whether the key is present.
func (o Object) Get(key string) (any, bool) {
	for i := range o {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// Set stores v under key, replacing the value in place when the key is
// present and appending the key otherwise.
func (o *Object) Set(key string, v any) {
	for i := range *o {
		if (*o)[i].Key == key {
			(*o)[i].Value = v
			return
		}
	}
	*o = append(*o, Field{Key: key, Value: v})
}

// Delete removes key and reports whether it was present.
func (o *Object) Delete(key string) bool {
	for i := range *o {
		if (*o)[i].Key == key {
			*o = append((*o)[:i], (*o)[i+1:]...)
			return true
		}
	}
	return false
}

// Pair is one entry of a [Map].
type Pair struct {
	Key   any
	Value any
}

// Map is a JavaScript Map (ext 124): ordered entries whose keys may be any
// value.
type Map []Pair

// Set is a JavaScript Set (ext 123): ordered values.
type Set []any

// RegExp is a JavaScript regular expression (ext 121).
type RegExp struct {
	Source string
	Flags  string
}

// Long is a long.js Long (ext 119): 64 bits and a signedness flag.
type Long struct {
	Bits     uint64
	Unsigned bool
}

// Int64 returns the bits as a two's-complement signed integer.
func (l Long) Int64() int64 { return int64(l.Bits) }

// Uint64 returns the bits as an unsigned integer.
func (l Long) Uint64() uint64 { return l.Bits }

// String returns the decimal value, honouring Unsigned.
func (l Long) String() string {
	if l.Unsigned {
		return strconv.FormatUint(l.Bits, 10)
	}
	return strconv.FormatInt(int64(l.Bits), 10)
}

// RawValue is one complete, already encoded MessagePack value. The encoders
// copy it verbatim (it must be well formed); [Unmarshal] into a *RawValue
// stores a copy of the value's bytes.
type RawValue []byte

// Reference is a reference to a remote service instance (ext 108).
type Reference struct {
	DefID string
}

// Definition is a service definition (ext 109, NETRON-WIRE.md §7.1). Meta is
// the service metadata, normally an [Object] or a Go struct.
type Definition struct {
	ID       string
	ParentID string
	PeerID   string
	Meta     any
}

// MetaString returns the string under key in d's metadata (an [Object], as
// decoded from the wire), or "" when there is none: MetaString("version").
func (d *Definition) MetaString(key string) string {
	if o, ok := d.Meta.(Object); ok {
		if v, ok := o.Get(key); ok {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// StreamKind is the kind of stream end that created a [StreamReference].
type StreamKind uint8

// Stream kinds, with their wire byte.
const (
	StreamReadable StreamKind = 0
	StreamWritable StreamKind = 1
)

// String returns "readable" or "writable".
func (k StreamKind) String() string {
	if k == StreamWritable {
		return "writable"
	}
	return "readable"
}

// StreamReference announces a stream (ext 107, NETRON-WIRE.md §8.5). On the
// wire the stream id is a decimal string; ids are 32-bit like the packet
// trailer.
type StreamReference struct {
	StreamID uint32
	Kind     StreamKind
	IsLive   bool
	PeerID   string
}
