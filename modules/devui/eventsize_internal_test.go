package devui

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// jsonSizeAtLeast never counts more than AppendValueJSON writes: a
// payload it calls too large to show is.
func TestJSONSizeAtLeastIsABound(t *testing.T) {
	long := strings.Repeat("ab", 40)
	samples := []any{
		nil, protocol.Undefined{}, true, false, "", "x", "a\"b\\c\n\x01", "bad \xff\xfe utf-8", long,
		json.Number(""), json.Number("12.5"), 0, -7, int64(math.MinInt64), uint64(math.MaxUint64), 0.5, 3.0, float32(1.5), int8(-3),
		[]byte{}, []byte{0, 1, 255}, []any{}, []any{nil, "x", []any{1, 2}},
		protocol.Object{}, protocol.Object{{Key: "a", Value: 1}, {Key: "u", Value: protocol.Undefined{}}, {Key: "b", Value: []any{long}}},
		protocol.Object{{Key: "u", Value: protocol.Undefined{}}, {Key: "k\"\n", Value: "v"}},
		protocol.Object{{Key: "a\xff", Value: long}, {Key: "a\ufffd", Value: "x"}}, // one key once replaced
		map[string]any{}, map[string]any{"a": 1, "b": protocol.Undefined{}, "c": "d"},
		map[string]any{"a\xff": long, "a\ufffd": "x"},
		&protocol.TitanError{Name: "Error", Message: long}, protocol.TitanError{}, (*protocol.TitanError)(nil),
		&protocol.JSError{Name: "TypeError", Message: "m", Fields: protocol.Object{{Key: "name", Value: long}}}, protocol.JSError{}, (*protocol.JSError)(nil),
		time.Unix(1, 0), protocol.Map{{Key: long, Value: long}}, protocol.Set{long},
		struct{ A, B string }{long, long},
		errors.New(long), struct{ E error }{errors.New(long)}, struct{ E *protocol.ErrorCause }{&protocol.ErrorCause{Name: long, Message: long}},
		protocol.ErrorCause{Name: long, Message: long}, &protocol.ErrorCause{Name: long}, struct{ O protocol.Object }{protocol.Object{{Key: "a", Value: long}}},
		struct{ T *protocol.TitanError }{&protocol.TitanError{Name: "Error", Message: long}}, struct{ J protocol.JSError }{protocol.JSError{Name: long}},
	}
	for _, v := range samples {
		check := func(v any, decoded bool) {
			t.Helper()
			b, err := protocol.AppendValueJSON(nil, v)
			if err != nil {
				return // not shown in any case
			}
			if n := jsonSizeAtLeast(v, math.MaxInt/2, 0, decoded); n > len(b) {
				t.Errorf("%#v (decoded %v): counted %d bytes, but its JSON is %d: %s", v, decoded, n, len(b), b)
			}
		}
		check(v, false)
		check([]any{v, v}, false)
		check(protocol.Object{{Key: "v", Value: v}}, false)
		// As an event from a peer carries it.
		raw, err := protocol.Marshal(v)
		if err != nil {
			continue
		}
		d, err := protocol.DecodeValue(raw, protocol.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		check(d, true)
	}
}

// An event from a peer that is far too large to show is found so by
// looking at about MaxEventPayload bytes of it, whatever its size.
func TestJSONSizeAtLeastStopsEarly(t *testing.T) {
	fields := make(protocol.Object, 60000)
	for i := range fields {
		fields[i] = protocol.Field{Key: "k" + strconv.Itoa(i), Value: []any{i, "v"}}
	}
	raw, err := protocol.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	big, err := protocol.DecodeValue(raw, protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(10, func() {
		if n := jsonSizeAtLeast(big, MaxEventPayload, 0, true); n <= MaxEventPayload || n > 2*MaxEventPayload {
			t.Errorf("an object of 60,000 fields: counted %d bytes, want just over %d", n, MaxEventPayload)
		}
	})
	if allocs != 0 {
		t.Errorf("counting allocated %v times, want none", allocs)
	}
}

type sizeInner struct {
	S string `json:"s"`
	N int
}

type sizeEmbedded struct{ E string }

type sizeZeroer struct{ V string }

func (z sizeZeroer) IsZero() bool { return z.V == "zero" }

type sizeSample struct {
	sizeEmbedded
	*sizeInner
	A      string            `json:"a"`
	Skip   string            `json:"-"`
	Empty  string            `json:"empty,omitempty"`
	Zero   sizeZeroer        `json:"zero,omitzero"`
	List   []string          `json:"list"`
	Nil    []int             `json:"nil"`
	Bytes  []byte            `json:"bytes"`
	Arr    [3]uint8          `json:"arr"`
	Map    map[string]any    `json:"map"`
	IntMap map[int]string    `json:"intMap"`
	Ptr    *sizeInner        `json:"ptr"`
	When   time.Time         `json:"when"`
	Any    any               `json:"any"`
	Undef  any               `json:"undef"`
	Inner  sizeInner         `json:"inner"`
	Named  namedString       `json:"named"`
	Floats []float32         `json:"floats"`
	Bad    map[string]string `json:"bad"`
	hidden string
}

type namedString string

// sizeHidden is embedded unexported with a json name: the encoder writes
// its fields, which reflect reads only (no Set from them).
type sizeHidden struct {
	M map[string]string
	L []map[int]string
}

type sizeWithHidden struct {
	sizeHidden `json:"hidden"`
	A          string
}

// goSizeAtLeast never counts more than AppendValueJSON writes for Go
// values of the app's own types.
func TestGoSizeAtLeastIsABound(t *testing.T) {
	long := strings.Repeat("ab", 40)
	full := sizeSample{
		sizeEmbedded: sizeEmbedded{E: long}, sizeInner: &sizeInner{S: long, N: 3},
		A: long, Skip: long, Empty: "", Zero: sizeZeroer{V: "zero"}, List: []string{long, "", "x"},
		Bytes: []byte{1, 2, 3}, Arr: [3]uint8{1, 2, 3},
		Map:    map[string]any{"a": long, "u": protocol.Undefined{}, "t": time.Unix(1, 0), "n": nil, "o": protocol.Object{{Key: "k", Value: long}}},
		IntMap: map[int]string{1: long, -20: "x"}, Ptr: &sizeInner{S: long}, When: time.Unix(1, 0),
		Any: []any{long, 1, map[string]int{"k": 1}}, Undef: protocol.Undefined{}, Inner: sizeInner{S: long},
		Named: namedString(long), Floats: []float32{1.5, 2}, Bad: map[string]string{"a\xff": long, "a\ufffd": "x"},
		hidden: long,
	}
	samples := []any{
		sizeSample{}, full, &full, []sizeSample{full, {}}, map[string]sizeSample{"x": full},
		[]*sizeSample{nil, &full}, [2]string{long, long}, map[string]*int{"nil": nil},
		map[namedString][]string{"k": {long}}, []namedString{namedString(long)},
		struct{ A, B any }{protocol.Undefined{}, long}, sizeZeroer{V: long},
		sizeWithHidden{sizeHidden: sizeHidden{M: map[string]string{"k": long}, L: []map[int]string{{1: long}}}, A: long},
	}
	for _, v := range samples {
		b, err := protocol.AppendValueJSON(nil, v)
		if err != nil {
			t.Errorf("%#v: %v", v, err)
			continue
		}
		if n := jsonSizeAtLeast(v, math.MaxInt/2, 0, false); n > len(b) {
			t.Errorf("%#v: counted %d bytes, but its JSON is %d: %s", v, n, len(b), b)
		}
	}
}
