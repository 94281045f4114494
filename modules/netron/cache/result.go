package cache

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// entryOverhead estimates what the cache spends on one result besides its
// key and value: otter's node and hash table slot, and the entry.
const entryOverhead = 192

// entry is a kept result: the value itself when no caller can change it
// (see shapeOf), else its encoding, which each hit decodes afresh.
type entry struct {
	value any          // the result, when kept as is
	raw   []byte       // its encoding, otherwise
	typ   reflect.Type // what raw decodes into
	ttl   time.Duration
	bytes uint32 // key, value and entryOverhead: what the entry takes
}

// result returns the kept result: the value, or a new decoding of raw.
func (e *entry) result() (any, error) {
	if e.raw == nil {
		return e.value, nil
	}
	return decode(e.raw, e.typ)
}

// decode decodes raw into a new value of type t.
func decode(raw []byte, t reflect.Type) (any, error) {
	p := reflect.New(t)
	if err := protocol.UnmarshalLimits(raw, p.Interface(), protocol.Limits{MaxFrameSize: len(raw)}); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

// keep returns the entry that keeps res for ttl under a key of keyLen
// bytes, and false when res is not to be kept: it would take more than
// limit bytes, it cannot be encoded, or its encoding does not decode
// back into its type.
func keep(res any, ttl time.Duration, keyLen, limit int) (*entry, bool) {
	e := &entry{ttl: ttl}
	size := keyLen + entryOverhead
	t := reflect.TypeOf(res)
	switch shapeOf(t) {
	case flat:
		e.value = res
		if t != nil { // nil: a nil result
			size += int(t.Size())
		}
	case flatStrings:
		v, ok := cloneStrings(res)
		if !ok {
			return nil, false
		}
		e.value = v
		size += int(t.Size()) + stringBytes(reflect.ValueOf(res))
	default:
		raw, err := encode(res)
		if err != nil || size+len(raw) > limit {
			return nil, false
		}
		if _, err := decode(raw, t); err != nil {
			return nil, false
		}
		e.raw, e.typ = raw, t
		size += len(raw)
	}
	if size > limit {
		return nil, false
	}
	e.bytes = uint32(size)
	return e, true
}

// cloneStrings returns a copy of res, which is flatStrings, holding copies
// of its strings: a string cut from a larger one (a title cut from a
// page) shares the larger one's memory, which the cache would otherwise
// keep whole while counting the string's bytes alone. It reports false
// when res holds a string it cannot set (an unexported field).
func cloneStrings(res any) (any, bool) {
	if s, ok := res.(string); ok {
		return strings.Clone(s), true
	}
	v := reflect.New(reflect.TypeOf(res)).Elem()
	v.Set(reflect.ValueOf(res))
	if !cloneStringsIn(v) {
		return nil, false
	}
	return v.Interface(), true
}

// cloneStringsIn replaces the strings v holds by copies; v is addressable.
func cloneStringsIn(v reflect.Value) bool {
	if shapeOf(v.Type()) != flatStrings {
		return true
	}
	switch v.Kind() {
	case reflect.String:
		if !v.CanSet() {
			return false
		}
		v.SetString(strings.Clone(v.String()))
	case reflect.Array:
		for i := range v.Len() {
			if !cloneStringsIn(v.Index(i)) {
				return false
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if !cloneStringsIn(v.Field(i)) {
				return false
			}
		}
	}
	return true
}

// encode returns the encoding of res, in a slice no longer than it.
func encode(res any) ([]byte, error) {
	bp := encodeBufs.Get().(*[]byte)
	b, err := protocol.AppendValue((*bp)[:0], res)
	var raw []byte
	if err == nil {
		raw = make([]byte, len(b))
		copy(raw, b)
	}
	if cap(b) <= maxEncodeBuf {
		*bp = b[:0]
		encodeBufs.Put(bp)
	}
	return raw, err
}

// encodeBufs hold the encodings of results before they are copied to the
// length they need; buffers above maxEncodeBuf are left to the collector.
var encodeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxEncodeBuf = 64 << 10

// shape says how a result of a type is kept.
type shape uint8

const (
	// encoded: the type holds references (maps, slices, pointers,
	// interfaces, channels, functions) through which a caller could
	// change what others get; the result is kept encoded.
	encoded shape = iota
	// flat: the type holds no reference, and the result is kept as is;
	// it takes the type's size.
	flat
	// flatStrings: flat, but the type holds strings (immutable), whose
	// bytes it takes as well.
	flatStrings
)

var (
	shapes   sync.Map // reflect.Type -> shape
	timeType = reflect.TypeFor[time.Time]()
)

// shapeOf returns how a result of type t is kept; a nil t (a nil result)
// is flat.
func shapeOf(t reflect.Type) shape {
	if t == nil {
		return flat
	}
	if s, ok := shapes.Load(t); ok {
		return s.(shape)
	}
	s := shapeOfType(t)
	shapes.Store(t, s)
	return s
}

func shapeOfType(t reflect.Type) shape {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return flat
	case reflect.String:
		return flatStrings
	case reflect.Array:
		if t.Len() == 0 {
			return flat
		}
		return shapeOfType(t.Elem())
	case reflect.Struct:
		if t == timeType {
			// Its one pointer, to a Location, is never changed
			// through a Time.
			return flat
		}
		s := flat
		for i := range t.NumField() {
			switch shapeOfType(t.Field(i).Type) {
			case encoded:
				return encoded
			case flatStrings:
				s = flatStrings
			}
		}
		return s
	}
	return encoded
}

// stringBytes returns the bytes of the strings v holds; v is flatStrings.
func stringBytes(v reflect.Value) int {
	switch v.Kind() {
	case reflect.String:
		return v.Len()
	case reflect.Array:
		if shapeOf(v.Type().Elem()) != flatStrings {
			return 0
		}
		n := 0
		for i := range v.Len() {
			n += stringBytes(v.Index(i))
		}
		return n
	case reflect.Struct:
		n := 0
		for i := range v.NumField() {
			n += stringBytes(v.Field(i))
		}
		return n
	}
	return 0
}
