package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// The text AppendValueJSON writes is the JSON of ToJSON's value, with the
// object keys in the value's own order.
func TestAppendValueJSON(t *testing.T) {
	type inner struct {
		B []byte `json:"b"`
	}
	type item struct {
		Z    string    `json:"z"`
		A    int       `json:"a"`
		When time.Time `json:"when"`
		In   inner     `json:"in"`
	}
	tests := []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{protocol.Undefined{}, `null`},
		{"a\"b\\c\n\u2028<>&", `"a\"b\\c\n` + "\u2028" + `<>&"`},
		{1.5, `1.5`}, {math.Copysign(0, -1), `0`}, {1e21, `1e+21`}, {int64(math.MaxInt64), `9223372036854775807`},
		{[]byte{0, 255}, `{"type":"Buffer","data":[0,255]}`},
		{protocol.Object{{Key: "z", Value: 1}, {Key: "u", Value: protocol.Undefined{}}, {Key: "a", Value: []any{true, nil}}}, `{"z":1,"a":[true,null]}`},
		{item{Z: "z", A: 2, When: time.UnixMilli(1718000000000).UTC(), In: inner{B: []byte{7}}},
			`{"z":"z","a":2,"when":"2024-06-10T06:13:20.000Z","in":{"b":{"type":"Buffer","data":[7]}}}`},
	}
	for _, tt := range tests {
		got, err := protocol.AppendValueJSON(nil, tt.v)
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendValueJSON(%#v) = %s, %v; want %s", tt.v, got, err, tt.want)
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), []any{1, math.Inf(-1)}, float32(math.NaN())} {
		if _, err := protocol.AppendValueJSON(nil, v); !errors.Is(err, protocol.ErrNonFinite) {
			t.Errorf("AppendValueJSON(%v): %v, want ErrNonFinite", v, err)
		}
	}
	deep := any(1)
	for range protocol.DefaultMaxDepth + 2 {
		deep = []any{deep}
	}
	if _, err := protocol.AppendValueJSON(nil, deep); !errors.Is(err, protocol.ErrTooDeep) {
		t.Errorf("a value nested %d deep: %v, want ErrTooDeep", protocol.DefaultMaxDepth+2, err)
	}
}

// FuzzJSONText holds the JSON text writer to ToJSON on every value the
// decoder accepts: the text parses, and means ToJSON's value; it fails
// only for what JSON cannot carry (non-finite numbers, too deep).
func FuzzJSONText(f *testing.F) {
	for _, s := range seedHex(false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil {
			return
		}
		text, err := protocol.AppendValueJSON(nil, v)
		want, jerr := protocol.ToJSON(v)
		if err != nil {
			if !errors.Is(err, protocol.ErrNonFinite) && !errors.Is(err, protocol.ErrTooDeep) && jerr == nil {
				t.Fatalf("AppendValueJSON(%#v): %v; ToJSON gave %#v", v, err, want)
			}
			return
		}
		if jerr != nil {
			t.Fatalf("AppendValueJSON wrote %s where ToJSON failed: %v", text, jerr)
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		var got any
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("AppendValueJSON(%#v) = %s: not JSON: %v", v, text, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("AppendValueJSON(%#v) = %s, which means %#v; ToJSON gives %#v", v, text, got, want)
		}
	})
}
