package protocol

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Go values to JSON text without the MessagePack in between.
//
// appendGoJSON encodes a Go value (Go → MessagePack) and writes the
// encoding as JSON (MessagePack → JSON): the one JSON mapping, at the
// price of a second walk over every byte. The writers compiled here write
// the JSON of a Go type straight from its value, for the types the
// mapping writes by their kind: booleans, numbers, strings, binary data,
// slices, arrays, maps with string or integer keys, pointers and structs
// of those. Anything else (time.Time, time.Duration, big.Int, RawValue, the
// generic model types, errors, interfaces) is written by appendGoJSON,
// value by value. Each writer does what the two steps do, step for step:
// the encoder's rule for a number (an integer beyond ±2^32 and within
// ±2^53 travels as a float64) and the JSON writer's for that encoding.
//
// A writer never decides an error: where the two steps could fail or take
// their general path (a non-finite number, a map key that is not valid
// UTF-8, nesting past directMaxDepth, a map too large for the encoding),
// it reports false, and the whole value is written by the two steps
// again, error included. FuzzGoJSON holds the two to the same bytes.

// directMaxDepth is the nesting (and pointer chain) past which a writer
// gives up: far below the limits of the two steps, so that it never
// succeeds where they would fail.
const directMaxDepth = 32

// jsonWriter appends the JSON text of v, a value of its type, at JSON
// nesting depth; false means that the value is to be written by the two
// steps, and dst is then to be discarded from where the writer began.
type jsonWriter func(dst []byte, v reflect.Value, depth int) ([]byte, bool)

// jsonWriters caches, per reflect.Type, the *jsonWriterEntry built for it.
var jsonWriters sync.Map

type jsonWriterEntry struct {
	// w is nil when the type is written by the two steps: only such types
	// may encode as undefined, which an object leaves out with its key.
	w jsonWriter
	// last is about the length of the JSON text of the type's recent
	// values (at most maxSizeHint): the room made before the next.
	last atomic.Int64
}

// maxSizeHint bounds the room made for a value before writing it.
const maxSizeHint = 1 << 20

// appendGoJSONDirect is appendGoJSON through a compiled writer where the
// value's type has one, and by the two steps otherwise or when the writer
// gives up.
func appendGoJSONDirect(dst []byte, v any, depth int) ([]byte, error) {
	if v == nil {
		return appendGoJSON(dst, v, depth)
	}
	rv := reflect.ValueOf(v)
	if e := goJSONWriter(rv.Type()); e.w != nil && depth <= directMaxDepth {
		// Room for as much as the type's last value took, at once,
		// instead of growing by doubling.
		start, last := len(dst), e.last.Load()
		dst = slices.Grow(dst, int(last))
		if out, ok := e.w(dst, rv, depth); ok {
			// Written back only when it grows or halves: the entry is
			// shared by every writer of the type.
			if n := int64(min(len(out)-start, maxSizeHint)); n > last || n < last/2 {
				e.last.Store(n)
			}
			return out, nil
		}
		dst = dst[:start]
	}
	return appendGoJSON(dst, v, depth)
}

// goJSONWriter returns the writer entry of t, building it on first use.
// Building one looks at no other type's writer (a container finds its
// elements' on its first write), so recursive types need no care here.
func goJSONWriter(t reflect.Type) *jsonWriterEntry {
	if e, ok := jsonWriters.Load(t); ok {
		return e.(*jsonWriterEntry)
	}
	e, _ := jsonWriters.LoadOrStore(t, newJSONWriter(t))
	return e.(*jsonWriterEntry)
}

// twoSteps reports whether the encoder writes values of t by a rule of its
// own rather than by t's kind (see newTypeEncoder), so that t's JSON is
// the two steps' to write.
func twoSteps(t reflect.Type) bool {
	return OwnEncoding(t) || t.Kind() == reflect.Interface
}

func newJSONWriter(t reflect.Type) *jsonWriterEntry {
	if twoSteps(t) {
		return &jsonWriterEntry{}
	}
	var w jsonWriter
	switch t.Kind() {
	case reflect.Bool:
		w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendBool(dst, v.Bool()), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) { return appendIntJSON(dst, v.Int()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) { return appendUintJSON(dst, v.Uint()) }
	case reflect.Float32, reflect.Float64:
		w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			// Integral values within ±2^32 travel as integers, which the
			// JSON writer prints as appendJSONFloat prints them.
			out, err := appendJSONFloat(dst, v.Float())
			return out, err == nil
		}
	case reflect.String:
		w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return appendStringJSON(dst, v.String()), true
		}
	case reflect.Pointer:
		w = pointerJSONWriter(t)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			w = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) { return appendBufferJSON(dst, v.Bytes()), true }
			break
		}
		w = listJSONWriter(t)
	case reflect.Array:
		w = listJSONWriter(t)
	case reflect.Map:
		w = mapJSONWriter(t)
	case reflect.Struct:
		w = structJSONWriter(t)
	}
	return &jsonWriterEntry{w: w}
}

// fallbackJSON writes v, inside a value being written (an element, not a
// member: undefined is null there), by the two steps.
func fallbackJSON(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
	out, ok, _ := appendEncodedMember(dst, nil, v, depth, false)
	return out, ok
}

// appendEncodedMember writes v, at JSON nesting depth inside a value being
// written, by the two steps, after key (an object member's separator and
// key, or nothing); with undef, a value that encodes as undefined writes
// nothing, key included, and reports skipped. The encoder starts at depth,
// which counts at least every container and pointer above v, so that it
// fails wherever the encoder of the whole value would.
func appendEncodedMember(dst, key []byte, v reflect.Value, depth int, undef bool) (out []byte, ok, skipped bool) {
	if !v.CanInterface() {
		return dst, false, false
	}
	e := getEncoder(nil)
	bp := encodedPool.Get().(*[]byte)
	e.buf, e.depth, e.ptrs = (*bp)[:0], depth, depth
	defer func() {
		if cap(e.buf) <= maxKeptEncoded {
			*bp = e.buf[:0]
			encodedPool.Put(bp)
		}
		e.buf = nil
		putEncoder(e)
	}()
	// The encoder of v's type, as the encoder of the whole value calls it
	// (e.value would take a nil *Undefined for undefined, not null).
	if err := typeEncoder(v.Type())(e, v); err != nil {
		return dst, false, false
	}
	b := e.buf
	if undef && len(b) == 3 && b[0] == 0xd4 && b[1] == 0 && b[2] == 0 {
		return dst, true, true
	}
	dst = append(dst, key...)
	dst, err := appendRawJSON(dst, b, depth)
	return dst, err == nil, false
}

// writerOf is the writer a container uses for its elements of type t:
// the compiled one, or the two steps.
func writerOf(t reflect.Type) jsonWriter {
	if w := goJSONWriter(t).w; w != nil {
		return w
	}
	return fallbackJSON
}

// appendIntJSON writes an integer as the encoder encodes it (§9.1: a
// float64 beyond ±2^32 and within ±2^53) and the JSON writer writes that.
func appendIntJSON(dst []byte, i int64) ([]byte, bool) {
	if i >= 0 {
		return appendUintJSON(dst, uint64(i))
	}
	if i < math.MinInt32 && i >= -maxExactFloatInt {
		out, err := appendJSONFloat(dst, float64(i))
		return out, err == nil
	}
	return strconv.AppendInt(dst, i, 10), true
}

func appendUintJSON(dst []byte, u uint64) ([]byte, bool) {
	if u > math.MaxUint32 && u <= maxExactFloatInt {
		out, err := appendJSONFloat(dst, float64(u))
		return out, err == nil
	}
	return strconv.AppendUint(dst, u, 10), true
}

// appendStringJSON writes a Go string as the JSON writer writes it from
// its encoding (appendJSONWire).
func appendStringJSON(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return AppendJSONString(dst, s)
	}
	return AppendJSONString(dst, makeString([]byte(s)))
}

func pointerJSONWriter(t reflect.Type) jsonWriter {
	// A chain of pointers to a type with an encoding of its own may end in
	// undefined, which an object leaves out with its key: the two steps
	// write the whole chain (and a chain too long to follow).
	for i, e := 0, t.Elem(); ; i, e = i+1, e.Elem() {
		if twoSteps(e) || i == 8 {
			return nil
		}
		if e.Kind() != reflect.Pointer {
			break
		}
	}
	var once sync.Once
	var elem jsonWriter
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if v.IsNil() {
			return append(dst, "null"...), true
		}
		once.Do(func() { elem = writerOf(t.Elem()) })
		// A chain of pointers nests nothing in JSON, but a cycle of them
		// never ends: each counts as a level here.
		if depth++; depth > directMaxDepth {
			return dst, false
		}
		return elem(dst, v.Elem(), depth)
	}
}

func listJSONWriter(t reflect.Type) jsonWriter {
	var once sync.Once
	var elem jsonWriter
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= directMaxDepth {
			return dst, false
		}
		once.Do(func() { elem = writerOf(t.Elem()) })
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = elem(dst, v.Index(i), depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
}

func mapJSONWriter(t reflect.Type) jsonWriter {
	keyString := mapKeyString(t.Key())
	if keyString == nil {
		return nil // the encoder refuses the key type: the two steps say so
	}
	var once sync.Once
	var elem jsonWriter
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		n := v.Len()
		if depth >= directMaxDepth || n > math.MaxUint16 {
			return dst, false
		}
		once.Do(func() { elem = goJSONWriter(t.Elem()).w })
		entries := make([]mapEntry, 0, n)
		iter := v.MapRange()
		for iter.Next() {
			entries = append(entries, mapEntry{key: keyString(iter.Key()), val: iter.Value()})
		}
		slices.SortFunc(entries, func(a, b mapEntry) int { return strings.Compare(a.key, b.key) })
		dst = append(dst, '{')
		first := true
		var keyBuf [64]byte
		key := keyBuf[:0]
		for i := range entries {
			k := entries[i].key
			if !utf8.ValidString(k) {
				return dst, false // the JSON writer's general path decides
			}
			key = append(AppendJSONString(key[:0], k), ':')
			var ok bool
			if dst, ok = appendMember(dst, key, elem, entries[i].val, depth+1, &first); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
}

// appendMember writes one member of an object: the separator (unless
// first), the key (JSON, quoted, with its colon) and the value, by w, or
// by the two steps when w is nil. A value that encodes as undefined (only
// one written by the two steps may) is left out with its key, as the JSON
// writer leaves it out.
func appendMember(dst, key []byte, w jsonWriter, v reflect.Value, depth int, first *bool) ([]byte, bool) {
	start := len(dst)
	if !*first {
		dst = append(dst, ',')
	}
	dst = append(dst, key...)
	if w == nil {
		out, ok, skipped := appendEncodedMember(dst[:start], dst[start:], v, depth, true)
		if ok && !skipped {
			*first = false
		}
		return out, ok
	}
	*first = false
	return w(dst, v, depth)
}

// structField is a struct field as its writer sees it.
type structField struct {
	f   *field
	key []byte     // the JSON key, quoted, and a colon
	w   jsonWriter // nil: the two steps
}

func structJSONWriter(t reflect.Type) jsonWriter {
	si := cachedStructInfo(t)
	if len(si.fields) > math.MaxUint16 {
		return nil
	}
	if len(si.byName) != len(si.fields) {
		return nil // a repeated name: the JSON writer's general path decides
	}
	for i := range si.fields {
		if !utf8.ValidString(si.fields[i].name) {
			return nil // the JSON writer's general path decides
		}
	}
	var once sync.Once
	var fields []structField
	build := func() {
		fields = make([]structField, len(si.fields))
		for i := range si.fields {
			f := &si.fields[i]
			fields[i] = structField{f: f, key: append(AppendJSONString(nil, f.name), ':'), w: goJSONWriter(f.typ).w}
		}
	}
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= directMaxDepth {
			return dst, false
		}
		once.Do(build)
		dst = append(dst, '{')
		first := true
		for i := range fields {
			sf := &fields[i]
			fv, ok := fieldValue(v, sf.f.index)
			if !ok || sf.f.omitEmpty && isEmptyValue(fv) || sf.f.omitZero && isZeroValue(fv) {
				continue
			}
			if dst, ok = appendMember(dst, sf.key, sf.w, fv, depth+1, &first); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
}
