package http

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
	"github.com/titanframework/titan/modules/netron/protocol"
)

var errTooDeep = errors.New("value nested too deeply")

// errNonFinite is matched by the error of appendJSON for NaN and ±Inf, which JSON cannot
// carry: JSON.stringify would write null, which a client would take for an answer.
var errNonFinite = errors.New("a non-finite number has no JSON form")

func nonFinite(f float64) error { return fmt.Errorf("%w: %v", errNonFinite, f) }

// appendJSON appends the JSON text of a Netron or Go value, by the one
// mapping of NETRON-WIRE.md §11.1 ([protocol.ToJSON]), keeping the key
// order of objects (struct fields in declaration order, decoded objects in
// wire order) as JSON.stringify does. Strings are not HTML-escaped. NaN and
// ±Inf, anywhere in the value, are an error matching errNonFinite (where
// ToJSON and JSON.stringify give null).
func appendJSON(dst []byte, v any) ([]byte, error) {
	return appendValue(dst, v, 0, false)
}

func appendValue(dst []byte, v any, depth int, decoded bool) ([]byte, error) {
	if depth > protocol.DefaultMaxDepth {
		return dst, errTooDeep
	}
	switch x := v.(type) {
	case nil, protocol.Undefined:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, x), nil
	case string:
		return appendString(dst, x), nil
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
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, e, depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case protocol.Object:
		dst = append(dst, '{')
		first := true
		for _, f := range x {
			if _, undef := f.Value.(protocol.Undefined); undef {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = appendString(dst, f.Key)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValue(dst, f.Value, depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, e := range x {
			if _, undef := e.(protocol.Undefined); !undef {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendValue(dst, x[k], depth+1, decoded); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case protocol.RawValue:
		g, err := protocol.DecodeValue(x, protocol.Limits{MaxFrameSize: math.MaxInt})
		if err != nil {
			return dst, err
		}
		return appendValue(dst, g, depth, true)
	}
	if decoded || isLeaf(v) {
		// A value of the generic model that has a JSON form of its own
		// (Date, BigInt, Buffer, Map, Set, errors, ...).
		j, err := protocol.ToJSON(v)
		if err != nil {
			return dst, err
		}
		return appendValue(dst, j, depth, true)
	}
	// A Go value (struct, typed slice or map, pointer): encode it and walk
	// the generic value, which keeps the field order.
	b, err := protocol.Marshal(v)
	if err != nil {
		return dst, fmt.Errorf("encode %T: %w", v, err)
	}
	g, err := protocol.DecodeValue(b, protocol.Limits{MaxFrameSize: math.MaxInt})
	if err != nil {
		return dst, fmt.Errorf("encode %T: %w", v, err)
	}
	return appendValue(dst, g, depth, true)
}

// isLeaf reports the types [protocol.ToJSON] converts without encoding.
func isLeaf(v any) bool {
	switch v.(type) {
	case int8, int16, int32, uint, uint8, uint16, uint32, float32, float64, []byte, time.Time, *big.Int,
		protocol.Map, protocol.Set, protocol.RegExp, *protocol.RegExp, protocol.Long,
		*protocol.TitanError, protocol.TitanError, *protocol.JSError, protocol.JSError,
		*protocol.ErrorCause, protocol.ErrorCause, *protocol.Definition, protocol.Definition,
		protocol.Reference, protocol.StreamReference:
		return true
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way JSON.stringify writes it:
// quotes, backslashes and control characters escaped, everything else as
// is; invalid UTF-8 becomes U+FFFD.
func appendString(dst []byte, s string) []byte {
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
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
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
