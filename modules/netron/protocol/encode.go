package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"time"
)

// maxPtrChain bounds pointer and interface indirections while encoding, so that
// a cyclic pointer fails instead of recursing forever.
const maxPtrChain = 1000

// Largest integer magnitude a float64 holds exactly (2^53).
const maxExactFloatInt = 1 << 53

// encoder appends the Netron MessagePack encoding of values to buf.
type encoder struct {
	buf   []byte
	depth int // open containers
	ptrs  int // open pointer/interface indirections
}

// Marshal returns the Netron MessagePack encoding of v. See [AppendValue].
func Marshal(v any) ([]byte, error) {
	return AppendValue(nil, v)
}

// AppendValue appends the Netron MessagePack encoding of v to dst and returns
// the extended buffer. On error it returns dst (with its original length) and
// the error.
//
// Values of the generic model ([Undefined], [Object], [Map], [Set], [RegExp],
// [Long], [JSError], [TitanError], [ErrorCause], [Definition], [Reference],
// [StreamReference], [RawValue], time.Time, *big.Int, []any, map[string]any)
// are written as NETRON-WIRE.md §9 prescribes; other Go values by reflection,
// as described in the package documentation.
func AppendValue(dst []byte, v any) ([]byte, error) {
	e := getEncoder(dst)
	defer putEncoder(e)
	if err := e.value(v); err != nil {
		return dst, err
	}
	return e.buf, nil
}

// Encoders escape to the heap (the cached per-type encoders take a pointer),
// so they are pooled.
var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

func getEncoder(dst []byte) *encoder {
	e := encoderPool.Get().(*encoder)
	e.buf, e.depth, e.ptrs = dst, 0, 0
	return e
}

func putEncoder(e *encoder) {
	e.buf = nil
	encoderPool.Put(e)
}

func unsupported(v any, why string) error {
	if why != "" {
		return fmt.Errorf("%w: cannot encode %T: %s", ErrUnsupported, v, why)
	}
	return fmt.Errorf("%w: cannot encode %T", ErrUnsupported, v)
}

func (e *encoder) enter() error {
	e.depth++
	if e.depth > DefaultMaxDepth {
		return fmt.Errorf("%w: more than %d nested containers", ErrTooDeep, DefaultMaxDepth)
	}
	return nil
}

func (e *encoder) leave() { e.depth-- }

// scalar writes v when it is nil, a bool, a string, an int, int64 or
// float64, a []byte or a RawValue, exactly as value does, and reports
// whether it did. It calls nothing that retains the encoder, so an encoder
// on the stack can use it.
func (e *encoder) scalar(v any) bool {
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, 0xc0)
	case bool:
		e.bool(x)
	case string:
		e.str(x)
	case int:
		e.int64(int64(x))
	case int64:
		e.int64(x)
	case float64:
		e.float64(x)
	case []byte:
		e.bin(x)
	case RawValue:
		e.buf = append(e.buf, x...)
	default:
		return false
	}
	return true
}

// value encodes one value of any type.
func (e *encoder) value(v any) error {
	if e.scalar(v) {
		return nil
	}
	switch x := v.(type) {
	case Undefined:
		e.buf = append(e.buf, 0xd4, 0x00, 0x00)
	case *Undefined:
		e.buf = append(e.buf, 0xd4, 0x00, 0x00)
	case int32:
		e.int64(int64(x))
	case int16:
		e.int64(int64(x))
	case int8:
		e.int64(int64(x))
	case uint:
		e.uint64(uint64(x))
	case uint64:
		e.uint64(x)
	case uint32:
		e.uint64(uint64(x))
	case uint16:
		e.uint64(uint64(x))
	case uint8:
		e.uint64(uint64(x))
	case float32:
		e.float64(float64(x))
	case []any:
		return e.array(x)
	case Object:
		return e.object(x)
	case map[string]any:
		return e.stringMap(x)
	case time.Time:
		return e.date(x)
	case *big.Int:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.bigInt(x)
	case Map:
		return e.jsMap(x)
	case Set:
		return e.jsSet(x)
	case RegExp:
		return e.regexp(&x)
	case *RegExp:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.regexp(x)
	case Long:
		e.long(x)
	case *Long:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		e.long(*x)
	case *TitanError:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.titanError(x)
	case TitanError:
		return e.titanError(&x)
	case *JSError:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.jsError(x)
	case JSError:
		return e.jsError(&x)
	case *ErrorCause:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.errorCause(x)
	case ErrorCause:
		return e.errorCause(&x)
	case *Definition:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.definition(x)
	case Definition:
		return e.definition(&x)
	case Reference:
		return e.reference(&x)
	case *Reference:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.reference(x)
	case StreamReference:
		return e.streamReference(&x)
	case *StreamReference:
		if x == nil {
			e.buf = append(e.buf, 0xc0)
			return nil
		}
		return e.streamReference(x)
	case []string:
		if err := e.enter(); err != nil {
			return err
		}
		e.arrayHeader(len(x))
		for _, s := range x {
			e.str(s)
		}
		e.leave()
	case error:
		// A Go error that is none of the Netron error types travels as a
		// standard JavaScript Error without a stack.
		return e.jsError(&JSError{Class: ClassError, Name: "Error", Message: x.Error()})
	default:
		rv := reflect.ValueOf(v)
		return typeEncoder(rv.Type())(e, rv)
	}
	return nil
}

func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 0xc3)
	} else {
		e.buf = append(e.buf, 0xc2)
	}
}

// int64 writes a signed integer: §9.1 within ±2^53, int64 (d3) beyond.
func (e *encoder) int64(v int64) {
	if v >= 0 {
		e.uint64(uint64(v))
		return
	}
	switch {
	case v >= -32:
		e.buf = append(e.buf, byte(v))
	case v >= math.MinInt8:
		e.buf = append(e.buf, 0xd0, byte(v))
	case v >= math.MinInt16:
		e.buf = append(e.buf, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		e.buf = append(e.buf, 0xd2)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v))
	case v >= -maxExactFloatInt:
		e.buf = append(e.buf, 0xcb)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(float64(v)))
	default:
		e.buf = append(e.buf, 0xd3)
		e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v))
	}
}

// uint64 writes an unsigned integer: §9.1 up to 2^53, uint64 (cf) beyond.
func (e *encoder) uint64(v uint64) {
	switch {
	case v <= 0x7f:
		e.buf = append(e.buf, byte(v))
	case v <= math.MaxUint8:
		e.buf = append(e.buf, 0xcc, byte(v))
	case v <= math.MaxUint16:
		e.buf = append(e.buf, 0xcd, byte(v>>8), byte(v))
	case v <= math.MaxUint32:
		e.buf = append(e.buf, 0xce)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v))
	case v <= maxExactFloatInt:
		e.buf = append(e.buf, 0xcb)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(float64(v)))
	default:
		e.buf = append(e.buf, 0xcf)
		e.buf = binary.BigEndian.AppendUint64(e.buf, v)
	}
}

// float64 writes a JS number by the §9.1 rule: integral values in the uint32
// or int32 range as integers (so -0 becomes 00), everything else as float64
// with NaN canonicalised to 7ff8000000000000.
func (e *encoder) float64(f float64) {
	if f == math.Trunc(f) { // false for NaN; true for ±Inf, excluded by the ranges
		if f >= 0 && f <= math.MaxUint32 {
			e.uint64(uint64(f))
			return
		}
		if f < 0 && f >= math.MinInt32 {
			e.int64(int64(f))
			return
		}
	}
	bits := math.Float64bits(f)
	if f != f {
		bits = 0x7ff8000000000000
	}
	e.buf = append(e.buf, 0xcb)
	e.buf = binary.BigEndian.AppendUint64(e.buf, bits)
}

func (e *encoder) strHeader(n int) {
	switch {
	case n < 32:
		e.buf = append(e.buf, 0xa0|byte(n))
	case n <= math.MaxUint8:
		e.buf = append(e.buf, 0xd9, byte(n))
	case n <= math.MaxUint16:
		e.buf = append(e.buf, 0xda, byte(n>>8), byte(n))
	default:
		e.buf = append(e.buf, 0xdb)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	}
}

func (e *encoder) str(s string) {
	e.strHeader(len(s))
	e.buf = append(e.buf, s...)
}

func (e *encoder) bin(b []byte) {
	n := len(b)
	switch {
	case n <= math.MaxUint8:
		e.buf = append(e.buf, 0xc4, byte(n))
	case n <= math.MaxUint16:
		e.buf = append(e.buf, 0xc5, byte(n>>8), byte(n))
	default:
		e.buf = append(e.buf, 0xc6)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	}
	e.buf = append(e.buf, b...)
}

func (e *encoder) arrayHeader(n int) {
	switch {
	case n < 16:
		e.buf = append(e.buf, 0x90|byte(n))
	case n <= math.MaxUint16:
		e.buf = append(e.buf, 0xdc, byte(n>>8), byte(n))
	default:
		e.buf = append(e.buf, 0xdd)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	}
}

// mapHeader writes a fixmap or map16 header; map32 is never written because
// the TypeScript decoders refuse it.
func (e *encoder) mapHeader(n int) error {
	switch {
	case n < 16:
		e.buf = append(e.buf, 0x80|byte(n))
	case n <= math.MaxUint16:
		e.buf = append(e.buf, 0xde, byte(n>>8), byte(n))
	default:
		return fmt.Errorf("%w: map with %d keys (map32 is refused by TypeScript peers)", ErrTooLarge, n)
	}
	return nil
}

func (e *encoder) array(a []any) error {
	if err := e.enter(); err != nil {
		return err
	}
	e.arrayHeader(len(a))
	for _, v := range a {
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

func (e *encoder) object(o Object) error {
	if err := e.enter(); err != nil {
		return err
	}
	if err := e.mapHeader(len(o)); err != nil {
		return err
	}
	for i := range o {
		e.str(o[i].Key)
		if err := e.value(o[i].Value); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

func (e *encoder) stringMap(m map[string]any) error {
	if m == nil {
		e.buf = append(e.buf, 0x80)
		return nil
	}
	if err := e.enter(); err != nil {
		return err
	}
	if err := e.mapHeader(len(m)); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.str(k)
		if err := e.value(m[k]); err != nil {
			return err
		}
	}
	e.leave()
	return nil
}

// Extension framing (§9.3): the data is written after a 6-byte placeholder and
// moved down once its length, and therefore the header size, is known.

const extReserve = 6

func (e *encoder) beginExt() int {
	start := len(e.buf)
	e.buf = append(e.buf, 0, 0, 0, 0, 0, 0)
	return start
}

func (e *encoder) endExt(start int, typ byte) {
	n := len(e.buf) - start - extReserve
	var h [extReserve]byte
	var hl int
	switch n {
	case 1:
		h[0], h[1], hl = 0xd4, typ, 2
	case 2:
		h[0], h[1], hl = 0xd5, typ, 2
	case 4:
		h[0], h[1], hl = 0xd6, typ, 2
	case 8:
		h[0], h[1], hl = 0xd7, typ, 2
	case 16:
		h[0], h[1], hl = 0xd8, typ, 2
	default:
		switch {
		case n <= math.MaxUint8:
			h[0], h[1], h[2], hl = 0xc7, byte(n), typ, 3
		case n <= math.MaxUint16:
			h[0], h[1], h[2], h[3], hl = 0xc8, byte(n>>8), byte(n), typ, 4
		default:
			h[0] = 0xc9
			binary.BigEndian.PutUint32(h[1:5], uint32(n))
			h[5], hl = typ, 6
		}
	}
	if hl != extReserve {
		copy(e.buf[start+hl:], e.buf[start+extReserve:])
		e.buf = e.buf[:len(e.buf)-(extReserve-hl)]
	}
	copy(e.buf[start:], h[:hl])
}

// date writes ext 125. The zero time.Time is written as null; times before
// 1970 cannot be represented (TypeScript throws on them) and fail.
func (e *encoder) date(t time.Time) error {
	if t.IsZero() {
		e.buf = append(e.buf, 0xc0)
		return nil
	}
	ms := t.UnixMilli()
	if ms < 0 {
		return unsupported(t, "Date before 1970 ("+t.UTC().Format(time.RFC3339)+") has no ext 125 form")
	}
	e.buf = append(e.buf, 0xd7, extDate)
	e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(ms))
	return nil
}

func (e *encoder) bigInt(x *big.Int) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	start := e.beginExt()
	n := len(e.buf)
	e.buf = x.Append(e.buf, 10)
	digits := len(e.buf) - n
	if abs := digits - (1-x.Sign())/2; abs > MaxBigIntDigits { // a '-' is not a digit
		return fmt.Errorf("%w: BigInt with %d digits (limit %d)", ErrTooLarge, abs, MaxBigIntDigits)
	}
	// Insert the string header in front of the digits.
	var h [5]byte
	hb := h[:0]
	switch {
	case digits < 32:
		hb = append(hb, 0xa0|byte(digits))
	case digits <= math.MaxUint8:
		hb = append(hb, 0xd9, byte(digits))
	default:
		hb = append(hb, 0xda, byte(digits>>8), byte(digits))
	}
	e.buf = append(e.buf, hb...)
	copy(e.buf[n+len(hb):], e.buf[n:n+digits])
	copy(e.buf[n:], hb)
	e.endExt(start, extBigInt)
	return nil
}

func (e *encoder) jsMap(m Map) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := e.beginExt()
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(m)))
	for i := range m {
		if err := e.value(m[i].Key); err != nil {
			return err
		}
		if err := e.value(m[i].Value); err != nil {
			return err
		}
	}
	e.endExt(start, extMap)
	e.leave()
	return nil
}

func (e *encoder) jsSet(s Set) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := e.beginExt()
	e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(len(s)))
	for _, v := range s {
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.endExt(start, extSet)
	e.leave()
	return nil
}

func (e *encoder) regexp(r *RegExp) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	start := e.beginExt()
	e.str(r.Source)
	e.str(r.Flags)
	e.endExt(start, extRegExp)
	return nil
}

func (e *encoder) long(l Long) {
	e.buf = append(e.buf, 0xc7, 9, extLong)
	if l.Unsigned {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
	e.buf = binary.BigEndian.AppendUint64(e.buf, l.Bits)
}

// optString writes s, or undefined when it is empty.
func (e *encoder) optString(s string) {
	if s == "" {
		e.buf = append(e.buf, 0xd4, 0x00, 0x00)
		return
	}
	e.str(s)
}

// valueOrEmptyMap writes v, or {} when v is nil.
func (e *encoder) valueOrEmptyMap(v any) error {
	if v == nil {
		e.buf = append(e.buf, 0x80)
		return nil
	}
	return e.value(v)
}

func (e *encoder) titanError(t *TitanError) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := e.beginExt()
	e.str(t.Name)
	e.int64(int64(t.Code))
	e.str(t.Message)
	if err := e.valueOrEmptyMap(t.Details); err != nil {
		return err
	}
	if err := e.valueOrEmptyMap(t.Context); err != nil {
		return err
	}
	e.int64(t.Timestamp)
	e.optString(t.RequestID)
	e.optString(t.CorrelationID)
	e.optString(t.SpanID)
	e.optString(t.TraceID)
	if t.Stack == "" {
		e.buf = append(e.buf, 0xc0)
	} else {
		e.str(t.Stack)
	}
	switch c := t.Cause.(type) {
	case nil:
		e.buf = append(e.buf, 0xc0)
	case *TitanError, TitanError, *ErrorCause, ErrorCause, *JSError, JSError:
		if err := e.value(c); err != nil {
			return err
		}
	case error:
		if err := e.errorCause(&ErrorCause{Name: "Error", Message: c.Error()}); err != nil {
			return err
		}
	default:
		if err := e.value(c); err != nil {
			return err
		}
	}
	if t.Extras == nil {
		e.buf = append(e.buf, 0xc0)
	} else if err := e.object(t.Extras); err != nil {
		return err
	}
	e.endExt(start, extTitanError)
	e.leave()
	return nil
}

func (e *encoder) errorCause(c *ErrorCause) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	e.buf = append(e.buf, 0x84)
	e.str("__errorType")
	e.str("Error")
	e.str("name")
	e.str(c.Name)
	e.str("message")
	e.str(c.Message)
	e.str("stack")
	e.optString(c.Stack)
	return nil
}

func (e *encoder) jsError(x *JSError) error {
	if err := e.enter(); err != nil {
		return err
	}
	if len(x.Fields) > math.MaxUint16 {
		return fmt.Errorf("%w: Error with %d fields", ErrTooLarge, len(x.Fields))
	}
	start := e.beginExt()
	class := x.Class
	if class == 0 {
		class = ClassError
	}
	e.buf = append(e.buf, byte(class>>8), byte(class))
	e.str(x.Name)
	e.optString(x.Stack)
	e.str(x.Message)
	e.buf = append(e.buf, byte(len(x.Fields)>>8), byte(len(x.Fields)))
	for i := range x.Fields {
		e.str(x.Fields[i].Key)
		if err := e.value(x.Fields[i].Value); err != nil {
			return err
		}
	}
	e.endExt(start, extError)
	e.leave()
	return nil
}

func (e *encoder) definition(d *Definition) error {
	if err := e.enter(); err != nil {
		return err
	}
	start := e.beginExt()
	e.str(d.ID)
	e.str(d.ParentID)
	e.str(d.PeerID)
	if err := e.value(d.Meta); err != nil {
		return err
	}
	e.endExt(start, extDefinition)
	e.leave()
	return nil
}

func (e *encoder) reference(r *Reference) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	start := e.beginExt()
	e.str(r.DefID)
	e.endExt(start, extReference)
	return nil
}

func (e *encoder) streamReference(s *StreamReference) error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	start := e.beginExt()
	var digits [10]byte
	id := appendUint(digits[:0], uint64(s.StreamID))
	e.strHeader(len(id))
	e.buf = append(e.buf, id...)
	e.buf = append(e.buf, byte(s.Kind&1))
	if s.IsLive {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
	e.str(s.PeerID)
	e.endExt(start, extStreamReference)
	return nil
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
