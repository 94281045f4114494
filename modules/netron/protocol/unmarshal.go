package protocol

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// decFunc decodes one value into v, which is settable and of a fixed type.
type decFunc func(d *decoder, v reflect.Value) error

var decoderCache sync.Map // reflect.Type -> decFunc

// Decoders escape to the heap (the cached per-type decoders take a pointer),
// so Unmarshal pools them.
var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

// Unmarshal decodes exactly one Netron MessagePack value from data into the
// Go value v points to, with the default [Limits]. See [UnmarshalLimits].
func Unmarshal(data []byte, v any) error {
	return UnmarshalLimits(data, v, Limits{})
}

// UnmarshalLimits decodes exactly one value from data into the Go value v
// points to, directly (no intermediate generic tree) and with per-type
// decoders cached on first use. v must be a non-nil pointer.
//
// Maps fill structs (fields matched by json tag name, then case-insensitively;
// unknown keys are skipped), Go maps with string or integer keys, and
// map[string]any. Numbers fill any integer or float type when the value fits
// exactly (an integral float64, as JavaScript sends integers beyond 32 bits,
// fills an integer field); strings and bin fill string and []byte; arrays fill
// slices and arrays; Date fills time.Time; BigInt and integers fill big.Int;
// null and undefined set the zero value. An interface target receives the
// generic model (see [DecodeValue]) when the decoded value is assignable to
// it. Anything else fails with [ErrTypeMismatch]; the first error stops
// decoding.
func UnmarshalLimits(data []byte, v any, lim Limits) error {
	_, err := unmarshal(data, v, lim, false)
	return err
}

// OwnedBinMin is the shortest binary value [UnmarshalOwned] takes from its
// input instead of copying.
const OwnedBinMin = 1 << 10

// UnmarshalOwned is [UnmarshalLimits] for input its caller hands over:
// nothing reads or writes data after the call but through what it decoded.
// Binary values of at least OwnedBinMin bytes are then slices of data
// (their capacity capped at their length, so that an append copies)
// instead of copies of it: a stream of large []byte items is decoded with
// no copy. A kept slice keeps data alive.
func UnmarshalOwned(data []byte, v any, lim Limits) error {
	_, err := unmarshal(data, v, lim, true)
	return err
}

// UnmarshalLent is [UnmarshalOwned] for input in a buffer its caller would
// rather reuse (a pooled frame): it reports whether the decoded value kept
// part of data (a binary value of OwnedBinMin bytes or more). When kept
// is false nothing aliases data and the buffer is the caller's again;
// when true it must not be reused, since the value is a slice of it.
func UnmarshalLent(data []byte, v any, lim Limits) (kept bool, err error) {
	return unmarshal(data, v, lim, true)
}

// unmarshal decodes data into v; with owned, long bins are sliced from
// data, and kept reports whether any was.
func unmarshal(data []byte, v any, lim Limits, owned bool) (kept bool, err error) {
	if len(data) > lim.frameSize() {
		return false, decodeErr(0, ErrTooLarge, "value of "+strconv.Itoa(len(data))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	if ok, kept, err := unmarshalScalar(data, v, lim, owned); ok {
		return kept, err
	}
	d := decoderPool.Get().(*decoder)
	budget := uint64(lim.frameSize()) * decodedFactor
	*d = decoder{b: data, maxDepth: lim.depth(), owned: owned, budget: budget, budgetAll: budget}
	defer func() {
		*d = decoder{} // the pool keeps neither the input nor a string window alive
		decoderPool.Put(d)
	}()
	err = d.into(v)
	return d.kept, err // read before the deferred reset
}

// into decodes the decoder's whole input into v.
func (d *decoder) into(v any) error {
	if p, ok := v.(*any); ok && p != nil {
		x, err := d.value()
		if err != nil {
			return err
		}
		*p = x
	} else {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer || rv.IsNil() {
			return nilTarget(v)
		}
		if err := typeDecoder(rv.Type().Elem())(d, rv.Elem()); err != nil {
			return err
		}
	}
	if d.off != len(d.b) {
		return decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(d.b)-d.off)+" trailing bytes")
	}
	return nil
}

func typeDecoder(t reflect.Type) decFunc {
	if f, ok := decoderCache.Load(t); ok {
		return f.(decFunc)
	}
	var (
		wg sync.WaitGroup
		f  decFunc
	)
	wg.Add(1)
	fi, loaded := decoderCache.LoadOrStore(t, decFunc(func(d *decoder, v reflect.Value) error {
		wg.Wait()
		return f(d, v)
	}))
	if loaded {
		return fi.(decFunc)
	}
	f = newTypeDecoder(t)
	wg.Done()
	decoderCache.Store(t, f)
	return f
}

func headName(h head) string {
	switch h.k {
	case kNil:
		return "null"
	case kUndefined:
		return "undefined"
	case kBool:
		return "bool"
	case kInt, kUint, kFloat:
		return "number"
	case kStr:
		return "string"
	case kBin:
		return "bin"
	case kArray:
		return "array"
	case kMap:
		return "map"
	}
	switch h.typ {
	case extDate:
		return "Date"
	case extBigInt:
		return "BigInt"
	case extMap:
		return "Map"
	case extSet:
		return "Set"
	case extLong:
		return "Long"
	case extRegExp:
		return "RegExp"
	case extError:
		return "Error"
	case extTitanError:
		return "TitanError"
	case extDefinition:
		return "Definition"
	case extReference:
		return "Reference"
	}
	return "StreamReference"
}

// nilTarget is the error for a target that is not a non-nil pointer.
func nilTarget(v any) error {
	return fmt.Errorf("%w: Unmarshal needs a non-nil pointer, got %T", ErrTypeMismatch, v)
}

func mismatch(h head, t reflect.Type) error {
	return decodeErr(h.start, ErrTypeMismatch, "cannot store "+headName(h)+" in Go type "+t.String())
}

func newTypeDecoder(t reflect.Type) decFunc {
	switch {
	case t == rawType:
		return func(d *decoder, v reflect.Value) error {
			start := d.off
			if err := d.skip(); err != nil {
				return err
			}
			v.SetBytes(append([]byte{}, d.b[start:d.off]...))
			return nil
		}
	case t == timeType:
		return timeDecoder
	case t == durationType:
		return durationDecoder
	case t == bigIntType:
		return bigIntDecoder
	case modelTypes[t]:
		return modelDecoder(t)
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(d *decoder, v reflect.Value) error {
			b, err := d.boolValue(t)
			if err != nil {
				return err
			}
			v.SetBool(b)
			return nil
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intDecoder(t)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintDecoder(t)
	case reflect.Float32, reflect.Float64:
		return floatDecoder(t)
	case reflect.String:
		return func(d *decoder, v reflect.Value) error {
			str, err := d.stringValue(t)
			if err != nil {
				return err
			}
			v.SetString(str)
			return nil
		}
	case reflect.Interface:
		return interfaceDecoder(t)
	case reflect.Pointer:
		return ptrDecoder(t)
	case reflect.Slice:
		return sliceDecoder(t)
	case reflect.Array:
		return arrayDecoder(t)
	case reflect.Map:
		return mapDecoder(t)
	case reflect.Struct:
		return structDecoder(t)
	}
	return func(d *decoder, v reflect.Value) error {
		return fmt.Errorf("%w: cannot decode into Go type %s", ErrUnsupported, t)
	}
}

// numberHead reads a number header, reporting null/undefined as ok=false.
func numberHead(d *decoder, t reflect.Type) (h head, isNull bool, err error) {
	h, err = d.next()
	if err != nil {
		return h, false, err
	}
	switch h.k {
	case kInt, kUint, kFloat:
		return h, false, nil
	case kNil, kUndefined:
		return h, true, nil
	}
	return h, false, mismatch(h, t)
}

func overflow(h head, t reflect.Type) error {
	return decodeErr(h.start, ErrTypeMismatch, "number does not fit Go type "+t.String())
}

func intDecoder(t reflect.Type) decFunc {
	bits := t.Bits()
	return func(d *decoder, v reflect.Value) error {
		i, err := d.intValue(t, bits)
		if err != nil {
			return err
		}
		v.SetInt(i)
		return nil
	}
}

func uintDecoder(t reflect.Type) decFunc {
	return func(d *decoder, v reflect.Value) error {
		h, isNull, err := numberHead(d, t)
		if err != nil {
			return err
		}
		if isNull {
			v.SetUint(0)
			return nil
		}
		var u uint64
		switch h.k {
		case kInt:
			if h.i < 0 {
				return overflow(h, t)
			}
			u = uint64(h.i)
		case kUint:
			u = h.u
		case kFloat:
			if h.f != math.Trunc(h.f) || h.f < 0 || h.f >= 1<<64 {
				return overflow(h, t)
			}
			u = uint64(h.f)
		}
		if v.OverflowUint(u) {
			return overflow(h, t)
		}
		v.SetUint(u)
		return nil
	}
}

func floatDecoder(t reflect.Type) decFunc {
	return func(d *decoder, v reflect.Value) error {
		h, isNull, err := numberHead(d, t)
		if err != nil {
			return err
		}
		var f float64
		switch {
		case isNull:
		case h.k == kInt:
			f = float64(h.i)
		case h.k == kUint:
			f = float64(h.u)
		default:
			f = h.f
		}
		if t.Kind() == reflect.Float32 && !math.IsInf(f, 0) && f == f && v.OverflowFloat(f) {
			return overflow(h, t)
		}
		v.SetFloat(f)
		return nil
	}
}

// peekNull consumes null (c0) or undefined (d4 00 00) if it comes next.
func (d *decoder) peekNull() bool {
	if d.off < len(d.b) && d.b[d.off] == 0xc0 {
		d.off++
		return true
	}
	if len(d.b)-d.off >= 3 && d.b[d.off] == 0xd4 && d.b[d.off+1] == 0 && d.b[d.off+2] == 0 {
		d.off += 3
		return true
	}
	return false
}

func timeDecoder(d *decoder, v reflect.Value) error {
	h, err := d.next()
	if err != nil {
		return err
	}
	switch {
	case h.k == kNil || h.k == kUndefined:
		v.Set(reflect.ValueOf(time.Time{}))
		return nil
	case h.k == kExt && h.typ == extDate:
		x, err := d.ext(h)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(x))
		return nil
	case h.k == kStr:
		// A Date's JSON form, as HTTP and TypeScript callers send it.
		tm, err := time.Parse(time.RFC3339Nano, d.str(h.n))
		if err != nil {
			return decodeErr(h.start, ErrTypeMismatch, "cannot store string in Go type time.Time: want an RFC 3339 date-time, such as 2006-01-02T15:04:05Z")
		}
		v.Set(reflect.ValueOf(tm.UTC())) // as a Date decodes
		return nil
	}
	return mismatch(h, v.Type())
}

func bigIntDecoder(d *decoder, v reflect.Value) error {
	h, err := d.next()
	if err != nil {
		return err
	}
	x := v.Addr().Interface().(*big.Int)
	switch h.k {
	case kNil, kUndefined:
		x.SetInt64(0)
	case kInt:
		x.SetInt64(h.i)
	case kUint:
		x.SetUint64(h.u)
	case kFloat:
		if h.f != math.Trunc(h.f) || math.IsInf(h.f, 0) {
			return mismatch(h, v.Type())
		}
		big.NewFloat(h.f).Int(x)
	case kExt:
		switch h.typ {
		case extBigInt:
			y, err := d.ext(h)
			if err != nil {
				return err
			}
			x.Set(y.(*big.Int))
		case extLong:
			y, err := d.ext(h)
			if err != nil {
				return err
			}
			l := y.(Long)
			if l.Unsigned {
				x.SetUint64(l.Bits)
			} else {
				x.SetInt64(int64(l.Bits))
			}
		default:
			return mismatch(h, v.Type())
		}
	default:
		return mismatch(h, v.Type())
	}
	return nil
}

// modelDecoder decodes a generic-model type (Object, Map, TitanError, …).
func modelDecoder(t reflect.Type) decFunc {
	return func(d *decoder, v reflect.Value) error {
		start := d.off
		if d.peekNull() {
			v.SetZero()
			return nil
		}
		x, err := d.value()
		if err != nil {
			return err
		}
		rv := reflect.ValueOf(x)
		if rv.Kind() == reflect.Pointer && rv.Type().Elem() == t {
			rv = rv.Elem()
		}
		if rv.Type() != t {
			return decodeErr(start, ErrTypeMismatch, "cannot store "+typeNameOf(x)+" in Go type "+t.String())
		}
		v.Set(rv)
		return nil
	}
}

func interfaceDecoder(t reflect.Type) decFunc {
	return func(d *decoder, v reflect.Value) error {
		start := d.off
		x, err := d.value()
		if err != nil {
			return err
		}
		if x == nil {
			v.SetZero()
			return nil
		}
		rv := reflect.ValueOf(x)
		if !rv.Type().AssignableTo(t) {
			return decodeErr(start, ErrTypeMismatch, "cannot store "+typeNameOf(x)+" in Go type "+t.String())
		}
		v.Set(rv)
		return nil
	}
}

func ptrDecoder(t reflect.Type) decFunc {
	elem := typeDecoder(t.Elem())
	return func(d *decoder, v reflect.Value) error {
		if d.peekNull() {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			if err := d.spend(d.off, 1, t.Elem().Size(), func() string { return "a " + t.Elem().String() }); err != nil {
				return err
			}
			v.Set(reflect.New(t.Elem()))
		}
		return elem(d, v.Elem())
	}
}

func sliceDecoder(t reflect.Type) decFunc {
	bytesElem := t.Elem().Kind() == reflect.Uint8
	elem := typeDecoder(t.Elem())
	return func(d *decoder, v reflect.Value) error {
		h, err := d.next()
		if err != nil {
			return err
		}
		switch h.k {
		case kNil, kUndefined:
			v.SetZero()
			return nil
		case kBin, kStr:
			if !bytesElem {
				return mismatch(h, t)
			}
			v.SetBytes(d.binBytes(h.n))
			return nil
		case kMap:
			if !bytesElem {
				return mismatch(h, t)
			}
			return d.bufferJSON(h, t, v)
		case kArray:
		default:
			return mismatch(h, t)
		}
		if err := d.enter(h.start); err != nil {
			return err
		}
		if h.n == 0 {
			v.Set(reflect.MakeSlice(t, 0, 0)) // [] stays an empty list, not null
		} else {
			if err := d.spend(h.start, h.n, t.Elem().Size(), func() string {
				return "a list of " + strconv.Itoa(h.n) + " elements of " + t.Elem().String()
			}); err != nil {
				return err
			}
			// A new array, filled in place: reflect.MakeSlice would also
			// allocate the slice header it returns.
			v.SetZero()
			v.Grow(h.n)
			v.SetLen(h.n)
		}
		for i := range h.n {
			if err := elem(d, v.Index(i)); err != nil {
				return err
			}
		}
		d.leave()
		return nil
	}
}

// bufferJSON decodes the JSON form of a Node Buffer, {type:"Buffer",
// data:[bytes]}, into a byte slice: the form a Buffer takes in JSON
// (NETRON-WIRE.md §11.1), so what a contract for []byte accepts from an
// HTTP client decodes. Any other map is a type mismatch.
func (d *decoder) bufferJSON(h head, t reflect.Type, v reflect.Value) error {
	if err := d.enter(h.start); err != nil {
		return err
	}
	o, err := d.objectBody(h.n)
	if err != nil {
		return err
	}
	d.leave()
	if len(o) != 2 {
		return mismatch(h, t)
	}
	var data []any
	typ, isArray := false, false
	for _, f := range o {
		switch f.Key {
		case "type":
			typ = f.Value == "Buffer"
		case "data":
			data, isArray = f.Value.([]any)
		}
	}
	if !typ || !isArray {
		return mismatch(h, t)
	}
	b := reflect.MakeSlice(t, len(data), len(data))
	out := b.Bytes()
	for i, e := range data {
		x, ok := byteOf(e)
		if !ok {
			return decodeErr(h.start, ErrTypeMismatch, "cannot store a Buffer whose data["+strconv.Itoa(i)+"] is not a byte in Go type "+t.String())
		}
		out[i] = x
	}
	v.Set(b)
	return nil
}

// byteOf returns an integer from 0 to 255 as a byte.
func byteOf(v any) (byte, bool) {
	switch x := v.(type) {
	case int64:
		return byte(x), x >= 0 && x <= 255
	case uint64:
		return byte(x), x <= 255
	case float64:
		return byte(x), x >= 0 && x <= 255 && x == float64(int(x))
	}
	return 0, false
}

func arrayDecoder(t reflect.Type) decFunc {
	elem := typeDecoder(t.Elem())
	return func(d *decoder, v reflect.Value) error {
		h, err := d.next()
		if err != nil {
			return err
		}
		switch h.k {
		case kNil, kUndefined:
			v.SetZero()
			return nil
		case kArray:
		default:
			return mismatch(h, t)
		}
		if err := d.enter(h.start); err != nil {
			return err
		}
		for i := range h.n {
			if i < v.Len() {
				if err := elem(d, v.Index(i)); err != nil {
					return err
				}
			} else if err := d.skip(); err != nil {
				return err
			}
		}
		for i := h.n; i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
		d.leave()
		return nil
	}
}

func mapDecoder(t reflect.Type) decFunc {
	kt := t.Key()
	switch kt.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		return func(d *decoder, v reflect.Value) error {
			return fmt.Errorf("%w: cannot decode into map key type %s (use protocol.Map)", ErrUnsupported, kt)
		}
	}
	elem := typeDecoder(t.Elem())
	return func(d *decoder, v reflect.Value) error {
		h, err := d.next()
		if err != nil {
			return err
		}
		switch h.k {
		case kNil, kUndefined:
			v.SetZero()
			return nil
		case kMap:
		default:
			return mismatch(h, t)
		}
		if err := d.enter(h.start); err != nil {
			return err
		}
		if err := d.spend(h.start, h.n, kt.Size()+t.Elem().Size(), func() string {
			return "a map of " + strconv.Itoa(h.n) + " entries of " + t.String()
		}); err != nil {
			return err
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, h.n))
		}
		kv := reflect.New(kt).Elem()
		ev := reflect.New(t.Elem()).Elem()
		for range h.n {
			kstart := d.off
			k, err := d.key()
			if err != nil {
				return err
			}
			switch kt.Kind() {
			case reflect.String:
				kv.SetString(k)
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				i, perr := strconv.ParseInt(k, 10, 64)
				if perr != nil || kv.OverflowInt(i) {
					return decodeErr(kstart, ErrTypeMismatch, "map key "+strconv.Quote(k)+" does not fit Go type "+kt.String())
				}
				if !plainDecimal(k) {
					return notPlainKey(kstart, k, strconv.FormatInt(i, 10), kt)
				}
				kv.SetInt(i)
			default:
				u, perr := strconv.ParseUint(k, 10, 64)
				if perr != nil || kv.OverflowUint(u) {
					return decodeErr(kstart, ErrTypeMismatch, "map key "+strconv.Quote(k)+" does not fit Go type "+kt.String())
				}
				if !plainDecimal(k) {
					return notPlainKey(kstart, k, strconv.FormatUint(u, 10), kt)
				}
				kv.SetUint(u)
			}
			ev.SetZero()
			if err := elem(d, ev); err != nil {
				return err
			}
			v.SetMapIndex(kv, ev)
		}
		d.leave()
		return nil
	}
}

// plainDecimal reports whether k, which strconv read as an integer, is
// written as JavaScript and the encoder write integers: no '+', no leading
// zero, not "-0". strconv also reads "+5", "05" and "-0", which a
// JavaScript object holds as keys other than "5" and "0"; read as the same
// Go key they would overwrite each other and lose an entry silently.
func plainDecimal(k string) bool {
	d := strings.TrimPrefix(k, "-")
	return d != "" && d[0] != '+' && (d[0] != '0' || k == "0")
}

func notPlainKey(at int, k, plain string, kt reflect.Type) error {
	return decodeErr(at, ErrTypeMismatch, "map key "+strconv.Quote(k)+" of Go type "+kt.String()+
		" must be written "+strconv.Quote(plain)+": a JavaScript object holds "+strconv.Quote(k)+
		" and "+strconv.Quote(plain)+" as two keys, which one Go map key cannot")
}

func structDecoder(t reflect.Type) decFunc {
	si := cachedStructInfo(t)
	decs := make([]decFunc, len(si.fields))
	for i := range si.fields {
		decs[i] = typeDecoder(si.fields[i].typ)
	}
	return func(d *decoder, v reflect.Value) error {
		h, err := d.next()
		if err != nil {
			return err
		}
		switch h.k {
		case kNil, kUndefined:
			if v.CanSet() {
				v.SetZero()
				return nil
			}
			// A struct of an unexported type embedded with a json name
			// cannot be set whole: the fields a value sets are zeroed.
			for i := range si.fields {
				if fv, ok := fieldValue(v, si.fields[i].index); ok && fv.CanSet() {
					fv.SetZero()
				}
			}
			return nil
		case kMap:
		default:
			return mismatch(h, t)
		}
		if err := d.enter(h.start); err != nil {
			return err
		}
		guess := 0 // encoders write the fields in order: try the next one first
		for range h.n {
			kb, ks, err := d.keyBytes()
			if err != nil {
				return err
			}
			i, ok := -1, false
			if kb != nil {
				if guess < len(si.fields) && si.fields[guess].name == string(kb) {
					i, ok = guess, true
				} else {
					i, ok = si.byName[string(kb)]
				}
			} else {
				i, ok = si.byName[ks]
				kb = []byte(ks)
			}
			if !ok {
				for j := range si.fields {
					if bytes.EqualFold(si.fields[j].key[len(si.fields[j].key)-len(si.fields[j].name):], kb) {
						i, ok = j, true
						break
					}
				}
			}
			if !ok {
				if err := d.skip(); err != nil {
					return err
				}
				continue
			}
			guess = i + 1
			if si.fields[i].readOnly {
				if err := d.skip(); err != nil {
					return err
				}
				continue
			}
			var fv reflect.Value
			if j := si.fields[i].direct; j >= 0 {
				fv = v.Field(j) // a field of the struct itself: nothing to allocate on the way
			} else {
				var settable bool
				if fv, settable = fieldForSet(v, si.fields[i].index); !settable {
					if err := d.skip(); err != nil {
						return err
					}
					continue
				}
			}
			if err := decs[i](d, fv); err != nil {
				return err
			}
		}
		d.leave()
		return nil
	}
}
