package jsonwalk

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// MaxDepth is the deepest nesting of arrays and objects [Valid] accepts:
// encoding/json's limit, 10000.
const MaxDepth = 10000

// Valid reports whether b is one JSON text, exactly as encoding/json's
// Valid does (same grammar, same whitespace, same nesting limit, bytes of
// any value above 0x1F inside strings), in one pass over b. encoding/json
// drives a state machine through a function call per byte; on text made
// mostly of long strings this is several times faster. FuzzValid holds it
// to encoding/json's answer.
func Valid(b []byte) bool {
	return walk(b, MaxDepth, nil) == Ok
}

// Box is what [Index] records of an array or object.
type Box struct {
	Count int // its elements, or members (a repeated key counts each time)
	End   int // the index after its closing bracket
	Next  int // the ordinal of the first container after it
}

// Status is [Index]'s verdict.
type Status uint8

const (
	Ok      Status = iota // one valid JSON text
	Invalid               // not JSON text (as far as it was read)
	TooDeep               // more than the nesting allowed: the rest was not read
)

// Index checks b as [Valid] does, but with at most maxDepth nested arrays
// and objects, and appends to boxes a Box for each array and object of b,
// in the order they open: what a reader needs to write each container's
// header before its contents, in one pass more. With TooDeep, the text
// past the container too many was not read: whether it is valid JSON is
// Valid's to say.
func Index(b []byte, maxDepth int, boxes []Box) ([]Box, Status) {
	st := walk(b, maxDepth, &boxes)
	return boxes, st
}

// walk is Valid and Index: rec, when not nil, receives the boxes.
func walk(b []byte, maxDepth int, rec *[]Box) Status {
	var stackBuf [32]byte
	stack := stackBuf[:0] // the open containers: '[' or '{'
	var ordBuf [32]int
	var ords []int // their ordinals in *rec (when recording)
	if rec != nil {
		ords = ordBuf[:0]
	}
	i := Space(b, 0)
	for {
		// A value starts at i.
		if i >= len(b) {
			return Invalid
		}
		if rec != nil && len(ords) > 0 {
			(*rec)[ords[len(ords)-1]].Count++
		}
		var ok bool
		switch c := b[i]; c {
		case '[', '{':
			if len(stack) >= maxDepth {
				return TooDeep
			}
			i = Space(b, i+1)
			if i < len(b) && b[i] == c+2 { // ']' is '['+2, '}' is '{'+2
				i++
				ok = true
				if rec != nil {
					*rec = append(*rec, Box{End: i, Next: len(*rec) + 1})
				}
				break
			}
			stack = append(stack, c)
			if rec != nil {
				ords = append(ords, len(*rec))
				*rec = append(*rec, Box{})
			}
			if c == '{' {
				if i, ok = member(b, i); !ok {
					return Invalid
				}
			}
			continue
		case '"':
			i, ok = stringEnd(b, i)
		case 't':
			i, ok = literal(b, i, "true")
		case 'f':
			i, ok = literal(b, i, "false")
		case 'n':
			i, ok = literal(b, i, "null")
		default:
			i, ok = number(b, i)
		}
		if !ok {
			return Invalid
		}
		// After a value: a comma and the next value, or the end of
		// containers, or the end of the text.
		for {
			i = Space(b, i)
			if len(stack) == 0 {
				if i == len(b) {
					return Ok
				}
				return Invalid
			}
			if i >= len(b) {
				return Invalid
			}
			top := stack[len(stack)-1]
			if b[i] == top+2 {
				stack = stack[:len(stack)-1]
				i++
				if rec != nil {
					bx := &(*rec)[ords[len(ords)-1]]
					bx.End, bx.Next = i, len(*rec)
					ords = ords[:len(ords)-1]
				}
				continue
			}
			if b[i] != ',' {
				return Invalid
			}
			i = Space(b, i+1)
			if top == '{' {
				if i, ok = member(b, i); !ok {
					return Invalid
				}
			}
			break
		}
	}
}

// member reads an object member's key and colon at i and returns where its
// value starts.
func member(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := stringEnd(b, i)
	if !ok {
		return i, false
	}
	i = Space(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return Space(b, i+1), true
}

// stringEnd checks the string whose opening quote is at i and returns the
// index after it.
func stringEnd(b []byte, i int) (int, bool) {
	end, _, _, ok := ScanString(b, i)
	return end, ok
}

// ScanString checks the string whose opening quote is at i as [Valid]
// does and returns the index after it, and what a reader needs to know of
// its inside without reading it again: whether it holds an escape, and
// whether a byte above 0x7F (the inside is then [Plain] only if it is
// valid UTF-8). With ok false, end is where the problem is.
func ScanString(b []byte, i int) (end int, escaped, nonASCII, ok bool) {
	const hi = 0x8080808080808080
	var high uint64 // the bytes read, or-ed: their top bits tell non-ASCII
	for i++; i < len(b); i++ {
		// Eight plain bytes at a time, then byte by byte from the first
		// that may not be.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			if m := specialMask(x); m != 0 {
				k := bits.TrailingZeros64(m) >> 3 // the first that may not be is one
				high |= x & (1<<(8*k) - 1)
				i += k
				break
			}
			high |= x
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		if plainByte[c] {
			high |= uint64(c)
			continue
		}
		switch c {
		case '"':
			return i + 1, escaped, high&hi != 0, true
		case '\\':
			escaped = true
			i++
			if i >= len(b) {
				return i, escaped, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !hex(b[i+1]) || !hex(b[i+2]) || !hex(b[i+3]) || !hex(b[i+4]) {
					return i, escaped, false, false
				}
				i += 4
			default:
				return i, escaped, false, false
			}
		default: // a control character
			return i, escaped, false, false
		}
	}
	return i, escaped, false, false
}

// special reports whether one of the eight bytes of x may not stand for
// itself in a string: a control byte, a quote or a backslash.
func special(x uint64) bool { return specialMask(x) != 0 }

// specialMask has the top bit set of each byte of x (little-endian) that
// is a control byte, a quote or a backslash, and maybe of bytes after the
// first such: the usual has-zero-byte tricks, exact about whether such a
// byte exists and about which is the first.
func specialMask(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	less := (x - lo*0x20) &^ x & hi
	q := x ^ (lo * '"')
	bs := x ^ (lo * '\\')
	return less | ((q - lo) &^ q & hi) | ((bs - lo) &^ bs & hi)
}

// ASCIIPrefix returns the length of the longest prefix of s whose bytes
// are printable ASCII other than '"' and '\\': what a JSON string holds
// as is, with nothing to escape or check. It reads eight bytes at a time.
func ASCIIPrefix(s string) int {
	const hi = 0x8080808080808080
	i := 0
	for i+8 <= len(s) {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&hi != 0 || special(x) {
			break
		}
		i += 8
	}
	for i < len(s) && s[i] < 0x80 && plainByte[s[i]] {
		i++
	}
	return i
}

// plainByte marks the bytes that stand for themselves inside a string.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func hex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// ScanLiteral checks that the literal lit (true, false or null) is at i
// and returns the index after it.
func ScanLiteral(b []byte, i int, lit string) (int, bool) { return literal(b, i, lit) }

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// ScanNumber checks the number at i as [Valid] does and returns the index
// after it.
func ScanNumber(b []byte, i int) (int, bool) { return number(b, i) }

// number checks the number at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// ValidOutside checks b, one JSON object, as [Valid] does, except for the
// value of its member key, which it only delimits and returns for the
// caller to check: a caller that reads that value with a checking reader
// of its own ([Index]) spares a pass over it. With ok, b is valid exactly
// when value is nil (b has no member key) or value is valid nested within
// [MaxDepth]-1 levels. Without ok, ValidOutside cannot tell (b is not
// valid, is not an object, has key more than once, or has a key with an
// escape, which key might spell): the caller asks Valid.
func ValidOutside(b []byte, key string) (value []byte, ok bool) {
	i := Space(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	i = Space(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, Space(b, i+1) == len(b)
	}
	found := false
	for {
		k := i
		v, ok := member(b, i)
		if !ok {
			return nil, false
		}
		name := b[k+1 : bytes.LastIndexByte(b[k:v], '"')+k]
		if bytes.IndexByte(name, '\\') >= 0 {
			return nil, false
		}
		e := End(b, v)
		if string(name) == key {
			if found {
				return nil, false
			}
			found, value = true, b[v:e]
		} else if v >= len(b) || walk(b[v:e], MaxDepth-1, nil) != Ok {
			return nil, false
		}
		i = Space(b, e)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = Space(b, i+1)
		case '}':
			if Space(b, i+1) != len(b) {
				return nil, false
			}
			return value, true
		default:
			return nil, false
		}
	}
}
