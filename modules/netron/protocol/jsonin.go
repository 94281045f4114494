package protocol

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/jsonwalk"
	"github.com/titanframework/titan/internal/unsafeutil"
)

// AppendJSON appends the Netron MessagePack encoding of one JSON value to
// dst, by the JSON mapping of NETRON-WIRE.md §11.1 that [FromJSON] follows
// (numbers are typed as FromJSON types them, nothing is revived), straight
// from the text: no generic value is built. Object keys keep the text's
// order, and a repeated key keeps its first place and its last value, as
// JSON.parse does. Invalid JSON is an [ErrMalformed] error carrying
// encoding/json's description of the problem; nesting deeper than
// [DefaultMaxDepth] is [ErrTooDeep]; a number beyond the float64 range
// (1e400) is a [*DecodeError] matching [ErrTooLarge] with the number's offset
// in text, where JSON.parse would give Infinity. On error dst is returned
// unchanged.
func AppendJSON(dst, text []byte) ([]byte, error) {
	return AppendJSONDepth(dst, text, DefaultMaxDepth)
}

// AppendJSONDepth is [AppendJSON] with at most maxDepth nested arrays and
// objects. An array of call arguments takes DefaultMaxDepth+1, so that each
// argument may nest as deep as a value given alone.
func AppendJSONDepth(dst, text []byte, maxDepth int) ([]byte, error) {
	t := jsonInPool.Get().(*jsonIn)
	defer t.release()
	// MessagePack is rarely longer than the JSON it comes from: room for
	// the text's length at once, instead of growing by doubling.
	e := getEncoder(slices.Grow(dst, len(text)))
	defer putEncoder(e)
	t.start(text, e, maxDepth)
	// One pass checks the text and writes it (see once). Text it does not
	// take (not JSON, too deep, a repeated key, too many keys, a number
	// out of range) goes the way that names the problem or merges the
	// keys: indexed first, then written.
	if i, ok := t.once(jsonwalk.Space(text, 0), 0); ok && jsonwalk.Space(text, i) == len(text) {
		return e.buf, nil
	}
	e.buf = e.buf[:len(dst)]
	clear(t.members[:cap(t.members)])
	t.members = t.members[:0]
	return t.indexed(dst)
}

// indexed is AppendJSONDepth's second way, with t.text, t.e (holding dst)
// and t.maxDepth set: the text is checked and its containers indexed in
// one pass, then written in another.
func (t *jsonIn) indexed(dst []byte) ([]byte, error) {
	var st jsonwalk.Status
	t.boxes, st = jsonwalk.Index(t.text, t.maxDepth, t.boxes[:0])
	if st == jsonwalk.TooDeep && jsonwalk.Valid(t.text) {
		return dst, fmt.Errorf("%w: more than %d nested containers", ErrTooDeep, t.maxDepth)
	}
	if st != jsonwalk.Ok {
		var v any
		err := json.Unmarshal(t.text, &v)
		if err == nil { // cannot happen: Valid and Unmarshal agree
			err = fmt.Errorf("invalid JSON")
		}
		return dst, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if _, err := t.value(jsonwalk.Space(t.text, 0), 0); err != nil {
		return dst, err
	}
	return t.e.buf, nil
}

// start sets t to write text with e, at most maxDepth containers deep.
func (t *jsonIn) start(text []byte, e *encoder, maxDepth int) {
	t.text, t.e, t.maxDepth = text, e, maxDepth
	t.budget = 2*len(text) + 4096
}

// once checks the value at i as jsonwalk.Valid does and writes it, in one
// pass over its text: each array and object gets a one-byte header, made
// longer (its contents moved) when it closes with 16 or more elements.
// depth is the number of containers open around the value. It returns
// the index after the value, or false for text it leaves to the indexed
// way: invalid, nested deeper than t.maxDepth, an object with a repeated
// key or more keys than map16 holds, a number out of range, or contents
// moved past t.budget (nesting made so that every level moves its
// contents, which the indexed way writes in linear time).
func (t *jsonIn) once(i, depth int) (int, bool) {
	b, e := t.text, t.e
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '"':
		end, escaped, nonASCII, ok := jsonwalk.ScanString(b, i)
		if !ok {
			return end, false
		}
		if in := b[i+1 : end-1]; !escaped && (!nonASCII || utf8.Valid(in)) {
			e.strHeader(len(in))
			e.buf = append(e.buf, in...)
		} else {
			e.str(jsonwalk.Unquote(b[i:end]))
		}
		return end, true
	case 't':
		e.bool(true)
		return jsonwalk.ScanLiteral(b, i, "true")
	case 'f':
		e.bool(false)
		return jsonwalk.ScanLiteral(b, i, "false")
	case 'n':
		e.buf = append(e.buf, 0xc0)
		return jsonwalk.ScanLiteral(b, i, "null")
	case '[':
		if depth >= t.maxDepth {
			return i, false
		}
		at := len(e.buf)
		e.buf = append(e.buf, 0x90)
		j := jsonwalk.Space(b, i+1)
		if j < len(b) && b[j] == ']' {
			return j + 1, true
		}
		n := 0
		for {
			var ok bool
			if j, ok = t.once(j, depth+1); !ok {
				return j, false
			}
			n++
			if j = jsonwalk.Space(b, j); j >= len(b) {
				return j, false
			}
			if b[j] == ']' {
				break
			}
			if b[j] != ',' {
				return j, false
			}
			j = jsonwalk.Space(b, j+1)
		}
		return j + 1, t.header(at, n, 0x90, 0xdc, 0xdd)
	case '{':
		if depth >= t.maxDepth {
			return i, false
		}
		return t.objectOnce(i, depth)
	}
	end, ok := jsonwalk.ScanNumber(b, i)
	if !ok {
		return end, false
	}
	return end, t.number(b[i:end])
}

// objectOnce is once for the object at i.
func (t *jsonIn) objectOnce(i, depth int) (int, bool) {
	b, e := t.text, t.e
	at := len(e.buf)
	e.buf = append(e.buf, 0x80)
	j := jsonwalk.Space(b, i+1)
	if j < len(b) && b[j] == '}' {
		return j + 1, true
	}
	base := len(t.members)
	var seen map[string]int // the keys' places, once there are many
	var keys uint64         // a bit for each key (see below)
	for {
		if j >= len(b) || b[j] != '"' {
			return j, false
		}
		end, escaped, nonASCII, ok := jsonwalk.ScanString(b, j)
		if !ok {
			return end, false
		}
		var key string
		if in := b[j+1 : end-1]; !escaped && (!nonASCII || utf8.Valid(in)) {
			key = unsafeutil.String(in)
		} else {
			key = jsonwalk.Unquote(b[j:end])
		}
		// The object's keys are searched for this one only when its bit
		// is set already (or they are many, in a map).
		if bit := keyBit(key); seen == nil && keys&bit == 0 {
			keys |= bit
		} else if t.find(base, key, &seen) >= 0 {
			return j, false // a repeated key: its first place gets its last value
		}
		if seen != nil {
			seen[key] = len(t.members)
		}
		t.members = append(t.members, jsonMember{key: key})
		e.str(key)
		if j = jsonwalk.Space(b, end); j >= len(b) || b[j] != ':' {
			return j, false
		}
		if j, ok = t.once(jsonwalk.Space(b, j+1), depth+1); !ok {
			return j, false
		}
		if j = jsonwalk.Space(b, j); j >= len(b) {
			return j, false
		}
		if b[j] == '}' {
			break
		}
		if b[j] != ',' {
			return j, false
		}
		j = jsonwalk.Space(b, j+1)
	}
	n := len(t.members) - base
	t.members = t.members[:base]
	if n > math.MaxUint16 { // map32, which TypeScript peers refuse
		return j, false
	}
	return j + 1, t.header(at, n, 0x80, 0xde, 0)
}

// keyBit is one of 64 bits for key, by its length and its first and last
// bytes: the keys of an object mostly have different ones.
func keyBit(key string) uint64 {
	h := len(key) * 7
	if len(key) > 0 {
		h += int(key[0]) + int(key[len(key)-1])*3
	}
	return 1 << (h & 63)
}

// header makes the one-byte header at e.buf[at] of a container that
// closed with n elements the one its count needs: fix (with n) below 16,
// else h16 or h32 with the contents moved to make room. It reports false
// when the moves passed t.budget.
func (t *jsonIn) header(at, n int, fix, h16, h32 byte) bool {
	e := t.e
	if n < 16 {
		e.buf[at] = fix | byte(n)
		return true
	}
	grow := 2
	if n > math.MaxUint16 {
		grow = 4
	}
	if t.budget -= len(e.buf) - at; t.budget < 0 {
		return false
	}
	e.buf = append(e.buf, make([]byte, grow)...)
	copy(e.buf[at+1+grow:], e.buf[at+1:len(e.buf)-grow])
	if grow == 2 {
		e.buf[at], e.buf[at+1], e.buf[at+2] = h16, byte(n>>8), byte(n)
	} else {
		e.buf[at] = h32
		binary.BigEndian.PutUint32(e.buf[at+1:], uint32(n))
	}
	return true
}

// number writes the checked JSON number s as FromJSON types it: an
// integer of up to 18 digits straight, any other through parseNumber.
// It reports false for a number out of range.
func (t *jsonIn) number(s []byte) bool {
	d := s
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) <= 18 {
		var v int64
		for _, c := range d {
			if c < '0' || c > '9' {
				v = -1
				break
			}
			v = v*10 + int64(c-'0')
		}
		if v >= 0 {
			if len(d) < len(s) {
				v = -v
			}
			t.e.int64(v)
			return true
		}
	}
	n, err := parseNumber(unsafeutil.String(s))
	if err != nil {
		return false
	}
	t.e.writeNumber(n)
	return true
}

// jsonInPool keeps transcoders with their tables, which a document of many
// containers (a page of records) would otherwise grow on every call.
var jsonInPool = sync.Pool{New: func() any { return new(jsonIn) }}

// maxKeptBoxes bounds the tables a pooled jsonIn keeps.
const maxKeptBoxes = 4096

// release returns t to the pool, holding nothing of the text it read.
func (t *jsonIn) release() {
	clear(t.members[:cap(t.members)]) // their keys may view the text
	if cap(t.boxes) > maxKeptBoxes || cap(t.members) > maxKeptBoxes {
		return
	}
	*t = jsonIn{boxes: t.boxes[:0], members: t.members[:0]}
	jsonInPool.Put(t)
}

// jsonIn transcodes JSON text: in one pass (once), or, for text that
// pass does not take, after jsonwalk.Index found it valid, with the Box of
// each of its arrays and objects (in the order they open): value encodes
// with every header known, in time proportional to the text.
type jsonIn struct {
	text     []byte
	boxes    []jsonwalk.Box
	members  []jsonMember // the open objects' members, stack-like
	e        *encoder
	maxDepth int
	budget   int // the bytes once may still move to make headers longer
}

type jsonMember struct {
	key        string // unquoted
	start, box int    // where the value's text starts; its ordinal if a container
}

// value encodes the value at i, whose ordinal (if a container) is box, and
// returns the index after it.
func (t *jsonIn) value(i, box int) (int, error) {
	b, e := t.text, t.e
	switch b[i] {
	case '"':
		end := jsonwalk.StringEnd(b, i)
		t.str(b[i:end])
		return end, nil
	case 't':
		e.bool(true)
		return i + 4, nil
	case 'f':
		e.bool(false)
		return i + 5, nil
	case 'n':
		e.buf = append(e.buf, 0xc0)
		return i + 4, nil
	case '[':
		bx := t.boxes[box]
		e.arrayHeader(bx.Count)
		j, next := i+1, box+1
		for range bx.Count {
			j = jsonwalk.Space(b, j)
			if b[j] == ',' {
				j = jsonwalk.Space(b, j+1)
			}
			if b[j] == '[' || b[j] == '{' {
				if _, err := t.value(j, next); err != nil {
					return 0, err
				}
				j, next = t.boxes[next].End, t.boxes[next].Next
				continue
			}
			var err error
			if j, err = t.value(j, 0); err != nil {
				return 0, err
			}
		}
		return bx.End, nil
	case '{':
		return t.object(i, box)
	}
	end := jsonwalk.ScalarEnd(b, i)
	n, err := parseNumber(unsafeutil.String(b[i:end]))
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return 0, &DecodeError{Offset: i, Msg: numberRangeMsg(string(b[i:end])), Err: ErrTooLarge}
		}
		return 0, err
	}
	e.writeNumber(n)
	return end, nil
}

// writeNumber writes n as its kind says.
func (e *encoder) writeNumber(n number) {
	switch n.kind {
	case intNumber:
		e.int64(n.i)
	case uintNumber:
		e.uint64(n.u)
	default:
		e.float64(n.f)
	}
}

// object encodes the object at i: its members are gathered first, so that
// a repeated key is written once, where it first appears, with its last
// value.
func (t *jsonIn) object(i, box int) (int, error) {
	b := t.text
	bx := t.boxes[box]
	base := len(t.members)
	var seen map[string]int // the members' places, once there are many
	j, next := i+1, box+1
	for range bx.Count {
		j = jsonwalk.Space(b, j)
		if b[j] == ',' {
			j = jsonwalk.Space(b, j+1)
		}
		kend := jsonwalk.StringEnd(b, j)
		key := jsonwalk.View(b[j:kend])
		j = jsonwalk.Space(b, kend)
		j = jsonwalk.Space(b, j+1) // past ':'
		m := jsonMember{key: key, start: j}
		if b[j] == '[' || b[j] == '{' {
			m.box = next
			j, next = t.boxes[next].End, t.boxes[next].Next
		} else {
			j = jsonwalk.End(b, j)
		}
		if k := t.find(base, key, &seen); k >= 0 {
			t.members[k].start, t.members[k].box = m.start, m.box
			continue
		}
		if seen != nil {
			seen[key] = len(t.members)
		}
		t.members = append(t.members, m)
	}
	n := len(t.members) - base
	if err := t.e.mapHeader(n); err != nil {
		return 0, err
	}
	for k := range n {
		m := t.members[base+k]
		t.e.str(m.key)
		if _, err := t.value(m.start, m.box); err != nil {
			return 0, err
		}
	}
	t.members = t.members[:base]
	return bx.End, nil
}

// find returns the index of the open object's member named key, or -1:
// by a linear search while the object has few members, then by a map.
func (t *jsonIn) find(base int, key string, seen *map[string]int) int {
	if *seen != nil {
		if k, ok := (*seen)[key]; ok {
			return k
		}
		return -1
	}
	for k := base; k < len(t.members); k++ {
		if t.members[k].key == key {
			return k
		}
	}
	if len(t.members)-base >= 16 {
		*seen = make(map[string]int, 2*(len(t.members)-base))
		for k := base; k < len(t.members); k++ {
			(*seen)[t.members[k].key] = k
		}
	}
	return -1
}

// str encodes a JSON string from its text (quotes included).
func (t *jsonIn) str(raw []byte) {
	if in := raw[1 : len(raw)-1]; jsonwalk.Plain(in) {
		t.e.strHeader(len(in))
		t.e.buf = append(t.e.buf, in...)
		return
	}
	t.e.str(jsonwalk.Unquote(raw))
}

// number is a JSON number typed as FromJSON types it: an int64 when it is
// an integer that fits, else a uint64 when it fits, else a float64.
type number struct {
	kind byte
	i    int64
	u    uint64
	f    float64
}

const (
	floatNumber = iota
	intNumber
	uintNumber
)

func parseNumber(s string) (number, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{kind: intNumber, i: i}, nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return number{kind: uintNumber, u: u}, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err == nil:
		return number{f: f}, nil
	case isRangeErr(err): // beyond ±1.8e308: no float64 holds it (a tiny one is 0, no error)
		return number{}, fmt.Errorf("%w: %s", ErrTooLarge, numberRangeMsg(s))
	}
	return number{}, fmt.Errorf("%w: invalid JSON number %q", ErrMalformed, s)
}

// numberRangeMsg says that the JSON number s is out of range.
func numberRangeMsg(s string) string {
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return "number " + s + " is out of range (a number holds at most ±1.8e308)"
}
