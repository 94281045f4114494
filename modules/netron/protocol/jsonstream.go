package protocol

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/unsafeutil"
)

// appendRawJSON appends the JSON text of the encoded value raw exactly as
// appendJSONValue does for the value DecodeValue makes of it, but reading
// raw token by token instead of building that value: scalars, strings,
// binary data, arrays and maps with string keys are written as they are
// read. An extension value (Date, BigInt, errors, ...) is decoded alone
// and written by the general path; so is a map whose keys are not all
// strings, repeat (the general path keeps a repeated key's first place
// and last value) or are not UTF-8, which is seen while writing it: its
// output is taken back and the map written again from its decoded value.
// FuzzRawJSON holds the two paths to the same output.
func appendRawJSON(dst, raw []byte, depth int) ([]byte, error) {
	lim := Limits{MaxFrameSize: math.MaxInt}
	d := decoderPool.Get().(*decoder)
	*d = decoder{b: raw, maxDepth: lim.depth()}
	defer func() {
		*d = decoder{}
		decoderPool.Put(d)
	}()
	start := len(dst)
	// JSON is longer than the MessagePack it comes from (quoted keys,
	// separators): room for half as much again at once, instead of
	// growing by doubling.
	dst = slices.Grow(dst, len(raw)+len(raw)/2)
	dst, err := d.appendJSON(dst, depth)
	if err != nil {
		return dst[:start], err
	}
	if d.off != len(raw) {
		return dst[:start], decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(raw)-d.off)+" trailing bytes")
	}
	return dst, nil
}

// appendJSON writes the value at the decoder's offset as JSON text; depth
// is its nesting for appendJSONValue's limit.
func (d *decoder) appendJSON(dst []byte, depth int) ([]byte, error) {
	if depth > DefaultMaxDepth {
		return dst, tooDeepForJSON()
	}
	h, err := d.next()
	if err != nil {
		return dst, err
	}
	switch h.k {
	case kNil, kUndefined:
		return append(dst, "null"...), nil
	case kBool:
		return strconv.AppendBool(dst, h.b), nil
	case kInt:
		return strconv.AppendInt(dst, h.i, 10), nil
	case kUint:
		return strconv.AppendUint(dst, h.u, 10), nil
	case kFloat:
		return appendJSONFloat(dst, h.f)
	case kStr:
		return appendJSONWire(dst, d.strBytes(h.n)), nil
	case kBin:
		return appendBufferJSON(dst, d.strBytes(h.n)), nil
	case kArray:
		if err := d.enter(h.start); err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for i := range h.n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = d.appendJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		d.leave()
		return append(dst, ']'), nil
	case kMap:
		return d.appendObjectJSON(dst, h, depth)
	}
	// An extension: the general path, for this value only.
	d.off = h.start
	v, err := d.value()
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v, depth, true)
}

// appendObjectJSON writes the map whose header is h; members whose value
// is undefined are left out, as JSON.stringify does.
func (d *decoder) appendObjectJSON(dst []byte, h head, depth int) ([]byte, error) {
	if err := d.enter(h.start); err != nil {
		return dst, err
	}
	level, start := d.depth, len(dst)
	var (
		seen  [16][]byte // the keys so far, to find a repeated one
		more  map[string]struct{}
		first = true
	)
	dst = append(dst, '{')
	for i := range h.n {
		if d.off < len(d.b) {
			if c := d.b[d.off]; !(c&0xe0 == 0xa0 || (c >= 0xd9 && c <= 0xdb)) {
				return d.objectAgain(dst[:start], h, depth) // a key that is not a string
			}
		}
		kh, err := d.next()
		if err != nil {
			return dst, err
		}
		k := d.strBytes(kh.n)
		// Invalid UTF-8 is replaced on decoding, so two different keys may
		// become one: the general path sorts that out.
		if !utf8.Valid(k) || repeated(seen[:min(i, len(seen))], more, k) {
			return d.objectAgain(dst[:start], h, depth)
		}
		if i < len(seen) {
			seen[i] = k
		} else {
			if more == nil {
				more = make(map[string]struct{}, h.n)
				for _, s := range seen {
					more[unsafeutil.String(s)] = struct{}{}
				}
			}
			more[unsafeutil.String(k)] = struct{}{}
		}
		if d.undefinedNext() {
			d.off += 3
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, unsafeutil.String(k))
		dst = append(dst, ':')
		if dst, err = d.appendJSON(dst, depth+1); err != nil {
			// The key may come again with a value that replaces this one
			// (the general path keeps the last): it decides.
			d.depth = level
			return d.objectAgain(dst[:start], h, depth)
		}
	}
	d.leave()
	return append(dst, '}'), nil
}

// objectAgain writes the map whose header is h from its decoded value.
func (d *decoder) objectAgain(dst []byte, h head, depth int) ([]byte, error) {
	d.leave()
	d.off = h.start
	v, err := d.value()
	if err != nil {
		return dst, err
	}
	return appendJSONValue(dst, v, depth, true)
}

// repeated reports whether k is among the keys seen so far.
func repeated(seen [][]byte, more map[string]struct{}, k []byte) bool {
	if more != nil {
		_, ok := more[unsafeutil.String(k)]
		return ok
	}
	for _, s := range seen {
		if bytes.Equal(s, k) {
			return true
		}
	}
	return false
}

// undefinedNext reports whether the next value is undefined (d4 00 00).
func (d *decoder) undefinedNext() bool {
	return len(d.b)-d.off >= 3 && d.b[d.off] == 0xd4 && d.b[d.off+1] == 0 && d.b[d.off+2] == 0
}

// tooDeepForJSON is the error of a value nested deeper than
// [DefaultMaxDepth].
func tooDeepForJSON() error {
	return fmt.Errorf("%w: more than %d nested values", ErrTooDeep, DefaultMaxDepth)
}

// appendJSONWire appends a string as it came on the wire: invalid UTF-8
// is replaced as the decoders replace it ([makeString]) before escaping.
func appendJSONWire(dst, p []byte) []byte {
	if utf8.Valid(p) {
		return AppendJSONString(dst, unsafeutil.String(p))
	}
	return AppendJSONString(dst, makeString(p))
}

// appendBufferJSON appends binary data in ToJSON's form of a Node Buffer.
func appendBufferJSON(dst, p []byte) []byte {
	dst = append(dst, `{"type":"Buffer","data":[`...)
	for i, c := range p {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(c), 10)
	}
	return append(dst, "]}"...)
}

// appendJSONFloat appends f as JSON.stringify writes a number; NaN and
// ±Inf are an error.
func appendJSONFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, nonFinite(f)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(dst, int64(f), 10), nil
	}
	return appendJSNumber(dst, f), nil
}

// encodedPool keeps the scratch buffers Go values are encoded into before
// their JSON is written.
var encodedPool = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptEncoded bounds the scratch buffers kept in encodedPool.
const maxKeptEncoded = 64 << 10

// appendGoJSON appends the JSON text of a Go value by encoding it and
// writing the encoding with appendRawJSON.
func appendGoJSON(dst []byte, v any, depth int) ([]byte, error) {
	bp := encodedPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxKeptEncoded {
			*bp = (*bp)[:0]
			encodedPool.Put(bp)
		}
	}()
	b, err := AppendValue((*bp)[:0], v)
	*bp = b
	if err != nil {
		return dst, fmt.Errorf("encode %T: %w", v, err)
	}
	return appendRawJSON(dst, b, depth)
}
