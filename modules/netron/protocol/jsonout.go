package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/jsonwalk"
)

// ErrNonFinite is matched by the error of [AppendValueJSON] for NaN and
// ±Inf, which JSON cannot carry: JSON.stringify would write null, which a
// client would take for an answer.
var ErrNonFinite = errors.New("a non-finite number has no JSON form")

func nonFinite(f float64) error { return fmt.Errorf("%w: %v", ErrNonFinite, f) }

// AppendValueJSON appends the JSON text of a Netron or Go value, by the
// mapping of NETRON-WIRE.md §11.1 ([ToJSON]), keeping the key order of
// objects (struct fields in declaration order, decoded objects in wire
// order) as JSON.stringify does. Strings are not HTML-escaped. NaN and
// ±Inf, anywhere in the value, are an error matching [ErrNonFinite]
// (where ToJSON and JSON.stringify give null); nesting deeper than
// [DefaultMaxDepth] is an error matching [ErrTooDeep]. It is the one
// writer of JSON text from Netron values: the HTTP gateway, its client and
// the CLI print with it.
func AppendValueJSON(dst []byte, v any) ([]byte, error) {
	return appendJSONValue(dst, v, 0, false)
}

func appendJSONValue(dst []byte, v any, depth int, decoded bool) ([]byte, error) {
	if depth > DefaultMaxDepth {
		return dst, tooDeepForJSON()
	}
	switch x := v.(type) {
	case nil, Undefined:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		// Invalid UTF-8 is replaced as on the wire (makeString), like a
		// struct field's string: AppendJSONString replaces each byte.
		return appendStringJSON(dst, x), nil
	case json.Number:
		if x == "" {
			return append(dst, '0'), nil
		}
		return append(dst, x...), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return dst, nonFinite(x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.AppendInt(dst, int64(x), 10), nil
		}
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, nonFinite(f)
		}
	case int:
		return strconv.AppendInt(dst, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(dst, x, 10), nil
	case uint64:
		return strconv.AppendUint(dst, x, 10), nil
	case []byte: // ToJSON's Buffer form, without building it
		return appendBufferJSON(dst, x), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSONValue(dst, e, depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case Object:
		for _, f := range x {
			if !utf8.ValidString(f.Key) {
				// Replaced on the wire, two keys may become one: the
				// encoding decides, as for a Go map (appendGoJSONDirect).
				return appendGoJSON(dst, x, depth)
			}
		}
		dst = append(dst, '{')
		first := true
		for _, f := range x {
			if _, undef := f.Value.(Undefined); undef {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = AppendJSONString(dst, f.Key)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, f.Value, depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, e := range x {
			if !utf8.ValidString(k) {
				return appendGoJSON(dst, x, depth) // as for an Object
			}
			if _, undef := e.(Undefined); !undef {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSONValue(dst, x[k], depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case RawValue:
		return appendRawJSON(dst, x, depth)
	}
	if decoded || isJSONLeaf(v) {
		// A value of the generic model that has a JSON form of its own
		// (Date, BigInt, Buffer, Map, Set, errors, ...): ToJSON's, with its
		// objects in order.
		j, err := jsonConv{ordered: true}.toJSON(v, depth)
		if err != nil {
			return dst, err
		}
		return appendJSONValue(dst, j, depth, true)
	}
	// A Go value (struct, typed slice or map, pointer): its encoding keeps
	// the field order; a compiled writer writes what the encoding would.
	return appendGoJSONDirect(dst, v, depth)
}

// isJSONLeaf reports the types [ToJSON] converts without encoding.
func isJSONLeaf(v any) bool {
	switch v.(type) {
	case int8, int16, int32, uint, uint8, uint16, uint32, float32, float64, []byte, time.Time, *big.Int,
		Map, Set, RegExp, *RegExp, Long,
		*TitanError, TitanError, *JSError, JSError,
		*ErrorCause, ErrorCause, *Definition, Definition,
		Reference, StreamReference:
		return true
	}
	return false
}

const jsonHexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string the way JSON.stringify
// writes it: quotes, backslashes and control characters escaped,
// everything else as is; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // skip what needs nothing, a word at a time
			if i += jsonwalk.ASCIIPrefix(s[i:]); i == len(s) {
				break
			}
			c = s[i]
		}
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', jsonHexDigits[c>>4], jsonHexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
