// Package jsonwalk checks JSON text ([Valid]: encoding/json's grammar and
// limits, in one pass) and walks valid text without decoding it: finding
// where values end, iterating an object's members, unquoting strings.
// Unescaping that matters stays encoding/json's; this spares a generic
// decode where a caller needs a few fields or transcodes the text itself.
//
// Every function but Valid assumes valid JSON; on other input its results
// are unspecified (but it does not panic on truncated input).
package jsonwalk

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/unsafeutil"
)

// Space returns the index of the first byte at or after i that is not
// JSON whitespace.
func Space(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// StringEnd returns the index after the string whose opening quote is at i.
// It looks for quotes with bytes.IndexByte, and a quote is the end when an
// even number of backslashes precede it.
func StringEnd(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			break
		}
		q := i + j
		k := q
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
	return len(b)
}

// ScalarEnd returns the index after the number or literal at i.
func ScalarEnd(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '-', c == '+', c == '.', c == 'E':
		default:
			return i
		}
	}
	return i
}

// End returns the index after the value that starts at i (not whitespace).
// It takes time in proportion to the value's length.
func End(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return StringEnd(b, i)
	case '[', '{':
	default:
		return ScalarEnd(b, i)
	}
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = StringEnd(b, i) - 1
		case '[', '{':
			depth++
		case ']', '}':
			if depth--; depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// Unquote returns the string whose JSON text (quotes included) is raw: the
// bytes themselves when they hold no escape and are valid UTF-8, else what
// encoding/json makes of them (invalid bytes and lone surrogates become
// U+FFFD).
func Unquote(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	in := raw[1 : len(raw)-1]
	if Plain(in) {
		return string(in)
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// View is [Unquote] without a copy for a plain string (see [Plain]): the
// result shares raw's bytes, which must not change while it is in use.
func View(raw []byte) string {
	if len(raw) < 2 {
		return ""
	}
	if in := raw[1 : len(raw)-1]; Plain(in) {
		return unsafeutil.String(in)
	}
	return Unquote(raw)
}

// Plain reports whether the inside of a JSON string (between its quotes)
// is the string itself: no escape, valid UTF-8.
func Plain(in []byte) bool {
	return bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in)
}

// Members calls f with each member of the object obj (its text, leading
// and trailing whitespace allowed), in order: the key's JSON text (quotes
// included; see [Unquote]) and the value's text. It stops when f returns
// false. Duplicate keys are passed as they come.
func Members(obj []byte, f func(key, value []byte) bool) {
	i := Space(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = Space(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		k := StringEnd(obj, i)
		key := obj[i:k]
		v := Space(obj, k)
		v = Space(obj, v+1) // past ':'
		e := End(obj, v)
		if !f(key, obj[v:e]) {
			return
		}
		i = Space(obj, e)
		if i < len(obj) && obj[i] == ',' {
			i = Space(obj, i+1)
		}
	}
}

// ElementAt returns the 1-based position of the element of arr, the text
// of a JSON array, that holds the byte at offset off (1 when arr has
// none): where a problem found at an offset of a call's argument list is,
// in the caller's terms ("argument 2").
func ElementAt(arr []byte, off int) int {
	i := Space(arr, 0) + 1 // past '['
	for k := 1; i < len(arr); k++ {
		i = Space(arr, i)
		if i >= len(arr) || arr[i] == ']' {
			return k
		}
		end := End(arr, i)
		if off < end {
			return k
		}
		if i = Space(arr, end); i < len(arr) && arr[i] == ',' {
			i++
		}
	}
	return 1
}
