package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

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
	// One pass checks the text and indexes its containers.
	var st jsonwalk.Status
	t.boxes, st = jsonwalk.Index(text, maxDepth, t.boxes[:0])
	if st == jsonwalk.TooDeep && jsonwalk.Valid(text) {
		return dst, fmt.Errorf("%w: more than %d nested containers", ErrTooDeep, maxDepth)
	}
	if st != jsonwalk.Ok {
		var v any
		err := json.Unmarshal(text, &v)
		if err == nil { // cannot happen: Valid and Unmarshal agree
			err = fmt.Errorf("invalid JSON")
		}
		return dst, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	t.text = text
	// MessagePack is rarely longer than the JSON it comes from: room for
	// the text's length at once, instead of growing by doubling.
	e := getEncoder(slices.Grow(dst, len(text)))
	defer putEncoder(e)
	t.e = e
	if _, err := t.value(jsonwalk.Space(text, 0), 0); err != nil {
		return dst, err
	}
	return e.buf, nil
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

// jsonIn transcodes JSON text that jsonwalk.Index found valid, with the
// Box of each of its arrays and objects (in the order they open): value
// encodes with every header known, in time proportional to the text.
type jsonIn struct {
	text    []byte
	boxes   []jsonwalk.Box
	members []jsonMember // the open objects' members, stack-like
	e       *encoder
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
	switch n.kind {
	case intNumber:
		e.int64(n.i)
	case uintNumber:
		e.uint64(n.u)
	default:
		e.float64(n.f)
	}
	return end, nil
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
