package protocol

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
)

var (
	stringType  = reflect.TypeFor[string]()
	boolType    = reflect.TypeFor[bool]()
	intType     = reflect.TypeFor[int]()
	int64Type   = reflect.TypeFor[int64]()
	float64Type = reflect.TypeFor[float64]()
	bytesType   = reflect.TypeFor[[]byte]()
)

// UnmarshalScalar decodes data into v, exactly as [UnmarshalLimits] does,
// when v is a *string, *bool, *int, *int64 or *float64, or a *[]byte and
// data a bin, a string, null or undefined, and reports whether it handled
// v; for any other target or data it does nothing and returns false. It
// does not retain v, so a caller's target can stay on its stack: the fast
// path for the common scalar results and arguments.
func UnmarshalScalar(data []byte, v any, lim Limits) (handled bool, err error) {
	handled, _, err = unmarshalScalar(data, v, lim, false)
	return handled, err
}

// UnmarshalScalarLent is [UnmarshalScalar] with [UnmarshalLent]'s handling
// of data: a *[]byte target takes a binary value of OwnedBinMin bytes or
// more as a slice of data, and kept reports that it did (data must not be
// reused then).
func UnmarshalScalarLent(data []byte, v any, lim Limits) (handled, kept bool, err error) {
	return unmarshalScalar(data, v, lim, true)
}

// unmarshalScalar is UnmarshalScalar; owned is UnmarshalOwned's: a long
// enough bin is then sliced from data, and kept reports it.
func unmarshalScalar(data []byte, v any, lim Limits, owned bool) (handled, kept bool, err error) {
	switch v.(type) {
	case *string, *bool, *int, *int64, *float64:
	case *[]byte:
		if !plainBytes(data) {
			return false, false, nil // a Buffer's JSON form, an array of numbers: the general path
		}
	default:
		return false, false, nil
	}
	if len(data) > lim.frameSize() {
		return true, false, decodeErr(0, ErrTooLarge, "value of "+strconv.Itoa(len(data))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	d := decoder{b: data, maxDepth: lim.depth(), owned: owned}
	switch p := v.(type) {
	case *string:
		if p == nil {
			return true, false, nilPointer("*string")
		}
		*p, err = d.stringValue(stringType)
	case *bool:
		if p == nil {
			return true, false, nilPointer("*bool")
		}
		*p, err = d.boolValue(boolType)
	case *int:
		if p == nil {
			return true, false, nilPointer("*int")
		}
		var i int64
		i, err = d.intValue(intType, strconv.IntSize)
		*p = int(i)
	case *int64:
		if p == nil {
			return true, false, nilPointer("*int64")
		}
		*p, err = d.intValue(int64Type, 64)
	case *float64:
		if p == nil {
			return true, false, nilPointer("*float64")
		}
		*p, err = d.float64Value()
	case *[]byte:
		if p == nil {
			return true, false, nilPointer("*[]byte")
		}
		*p, err = d.bytesValue()
	}
	if err != nil {
		return true, d.kept, err
	}
	if d.off != len(data) {
		return true, d.kept, decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(data)-d.off)+" trailing bytes")
	}
	return true, d.kept, nil
}

func nilPointer(typ string) error {
	return fmt.Errorf("%w: Unmarshal needs a non-nil pointer, got %s", ErrTypeMismatch, typ)
}

// The scalar decoders below are shared by UnmarshalScalar and the cached
// per-type decoders, so both paths accept and refuse the same input.

// stringValue decodes a string; t names the Go type in errors.
func (d *decoder) stringValue(t reflect.Type) (string, error) {
	if d.off < len(d.b) {
		if c := d.b[d.off]; c&0xe0 == 0xa0 { // a string of up to 31 bytes, the common one
			if n := int(c & 0x1f); n < len(d.b)-d.off {
				d.off++
				return d.str(n), nil
			}
		}
	}
	h, err := d.next()
	if err != nil {
		return "", err
	}
	switch h.k {
	case kStr:
		return d.str(h.n), nil
	case kNil, kUndefined:
		return "", nil
	}
	return "", mismatch(h, t)
}

// plainBytes reports whether data starts a value that fills a []byte as
// it is: a bin, a string, null or undefined.
func plainBytes(data []byte) bool {
	if len(data) == 0 {
		return false
	}
	switch c := data[0]; {
	case c&0xe0 == 0xa0, c >= 0xc4 && c <= 0xc6, c >= 0xd9 && c <= 0xdb, c == 0xc0:
		return true
	case c == 0xd4:
		return len(data) >= 3 && data[1] == 0 && data[2] == 0
	}
	return false
}

// bytesValue decodes a bin or string into a new []byte (nil for null and
// undefined), as the cached decoder of []byte does.
func (d *decoder) bytesValue() ([]byte, error) {
	h, err := d.next()
	if err != nil {
		return nil, err
	}
	switch h.k {
	case kBin, kStr:
		return d.binBytes(h.n), nil
	case kNil, kUndefined:
		return nil, nil
	}
	return nil, mismatch(h, bytesType)
}

// binBytes consumes the n bytes of a bin or string as a []byte of its
// own: a copy, or for an owned input (UnmarshalOwned) and n of at least
// OwnedBinMin the input's bytes, capacity capped so that an append copies.
func (d *decoder) binBytes(n int) []byte {
	p := d.strBytes(n)
	if d.owned && n >= OwnedBinMin {
		d.kept = true
		return p[:n:n]
	}
	b := make([]byte, n)
	copy(b, p)
	return b
}

// boolValue decodes a boolean; t names the Go type in errors.
func (d *decoder) boolValue(t reflect.Type) (bool, error) {
	h, err := d.next()
	if err != nil {
		return false, err
	}
	switch h.k {
	case kBool:
		return h.b, nil
	case kNil, kUndefined:
		return false, nil
	}
	return false, mismatch(h, t)
}

// intValue decodes a signed integer of the given bit size; t names the Go
// type in errors.
func (d *decoder) intValue(t reflect.Type, bits int) (int64, error) {
	h, isNull, err := numberHead(d, t)
	if err != nil || isNull {
		return 0, err
	}
	var i int64
	switch h.k {
	case kInt:
		i = h.i
	case kUint:
		return 0, overflow(h, t)
	case kFloat:
		if h.f != math.Trunc(h.f) || h.f < -(1<<63) || h.f >= 1<<63 {
			return 0, overflow(h, t)
		}
		i = int64(h.f)
	}
	if bits < 64 {
		if lim := int64(1) << (bits - 1); i < -lim || i >= lim {
			return 0, overflow(h, t)
		}
	}
	return i, nil
}

func (d *decoder) float64Value() (float64, error) {
	h, isNull, err := numberHead(d, float64Type)
	if err != nil || isNull {
		return 0, err
	}
	switch h.k {
	case kInt:
		return float64(h.i), nil
	case kUint:
		return float64(h.u), nil
	}
	return h.f, nil
}
