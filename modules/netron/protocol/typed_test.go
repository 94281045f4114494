package protocol_test

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

type Address struct {
	City string `json:"city"`
	Zip  string `json:"zip,omitempty"`
}

type Base struct {
	ID      int64  `json:"id"`
	Version string `json:"version,omitempty"`
}

type User struct {
	Base
	Name     string              `json:"name"`
	Email    string              `json:"email,omitempty"`
	Age      uint8               `json:"age"`
	Score    float64             `json:"score"`
	Tags     []string            `json:"tags"`
	Home     *Address            `json:"home,omitempty"`
	Work     Address             `json:"work"`
	Labels   map[string]int      `json:"labels,omitempty"`
	Created  time.Time           `json:"createdAt"`
	Balance  *big.Int            `json:"balance"`
	Avatar   []byte              `json:"avatar,omitempty"`
	Extra    any                 `json:"extra"`
	Seen     time.Time           `json:"seen,omitzero"`
	Secret   string              `json:"-"`
	internal int                 //nolint:unused // unexported: never encoded
	Meta     protocol.Object     `json:"meta,omitempty"`
	Ref      *protocol.Reference `json:"ref,omitempty"`
}

func TestTypedRoundTrip(t *testing.T) {
	u := User{
		Base:    Base{ID: 7},
		Name:    "Ann",
		Age:     42,
		Score:   2.5,
		Tags:    []string{"a", "b"},
		Work:    Address{City: "Oslo"},
		Labels:  map[string]int{"z": 1, "a": 2},
		Created: time.UnixMilli(1718000000000).UTC(),
		Balance: big.NewInt(-5),
		Avatar:  []byte{1, 2},
		Extra:   protocol.Undefined{},
		Secret:  "never",
		Meta:    protocol.Object{{Key: "k", Value: int64(1)}},
		Ref:     &protocol.Reference{DefID: "d"},
	}
	b, err := protocol.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	// The same value written by hand in the generic model: field order, json
	// names, omitempty/omitzero, flattening and sorted map keys.
	want, err := protocol.Marshal(protocol.Object{
		{Key: "id", Value: 7},
		{Key: "name", Value: "Ann"},
		{Key: "age", Value: 42},
		{Key: "score", Value: 2.5},
		{Key: "tags", Value: []any{"a", "b"}},
		{Key: "work", Value: protocol.Object{{Key: "city", Value: "Oslo"}}},
		{Key: "labels", Value: protocol.Object{{Key: "a", Value: 2}, {Key: "z", Value: 1}}},
		{Key: "createdAt", Value: time.UnixMilli(1718000000000)},
		{Key: "balance", Value: big.NewInt(-5)},
		{Key: "avatar", Value: []byte{1, 2}},
		{Key: "extra", Value: protocol.Undefined{}},
		{Key: "meta", Value: protocol.Object{{Key: "k", Value: 1}}},
		{Key: "ref", Value: protocol.Reference{DefID: "d"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("Marshal(User):\n got %x\nwant %x", b, want)
	}
	var got User
	if err := protocol.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	u.Secret = ""
	u.Extra = protocol.Undefined{}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("Unmarshal:\n got %+v\nwant %+v", got, u)
	}
}

func TestTypedDecodeDetails(t *testing.T) {
	// Keys matched case-insensitively as a fallback, unknown keys skipped,
	// integral float64 accepted for integers, nil into pointers.
	in, err := protocol.Marshal(protocol.Object{
		{Key: "NAME", Value: "x"},
		{Key: "unknown", Value: []any{1, protocol.Object{{Key: "a", Value: protocol.Set{1}}}}},
		{Key: "id", Value: 1718000000000.0},
		{Key: "home", Value: nil},
		{Key: "labels", Value: protocol.Object{{Key: "n", Value: 1}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	u := User{Home: &Address{City: "old"}}
	if err := protocol.Unmarshal(in, &u); err != nil {
		t.Fatal(err)
	}
	if u.Name != "x" || u.ID != 1718000000000 || u.Home != nil || u.Labels["n"] != 1 {
		t.Fatalf("decoded %+v", u)
	}
}

func TestIntegerBoundaries(t *testing.T) {
	const p53 = 1 << 53
	cases := []struct {
		name string
		v    any
		hex  string
	}{
		{"uint32 max", int64(math.MaxUint32), "ceffffffff"},
		{"2^32 as float64", int64(1 << 32), "cb41f0000000000000"},
		{"int32 min", int64(math.MinInt32), "d280000000"},
		{"int32 min - 1 as float64", int64(math.MinInt32 - 1), "cbc1e0000000200000"},
		{"2^53 - 1", int64(p53 - 1), "cb433fffffffffffff"},
		{"2^53", int64(p53), "cb4340000000000000"},
		{"2^53 + 1 as uint64", int64(p53 + 1), "cf0020000000000001"},
		{"-2^53", int64(-p53), "cbc340000000000000"},
		{"-2^53 - 1 as int64", int64(-p53 - 1), "d3ffdfffffffffffff"},
		{"int64 max", int64(math.MaxInt64), "cf7fffffffffffffff"},
		{"int64 min", int64(math.MinInt64), "d38000000000000000"},
		{"uint64 max", uint64(math.MaxUint64), "cfffffffffffffffff"},
		{"uint64 2^53 + 1", uint64(p53 + 1), "cf0020000000000001"},
		{"int8", int8(-33), "d0df"},
		{"uint16", uint16(65535), "cdffff"},
		{"float32 integral", float32(3), "03"},
		{"float32", float32(1.5), "cb3ff8000000000000"},
		{"float64 negative zero", math.Copysign(0, -1), "00"},
		{"float64 NaN payload canonicalised", math.Float64frombits(0x7ff8000000000123), "cb7ff8000000000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := protocol.Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := h(c.hex); !bytes.Equal(b, got) {
				t.Fatalf("Marshal(%v) = %x, want %x", c.v, b, got)
			}
			// Decoding into the value's own type gives it back exactly.
			ptr := reflect.New(reflect.TypeOf(c.v))
			if err := protocol.Unmarshal(b, ptr.Interface()); err != nil {
				t.Fatal(err)
			}
			got := ptr.Elem().Interface()
			if f, ok := c.v.(float64); ok && f != f {
				if g := got.(float64); g == g {
					t.Fatalf("got %v, want NaN", got)
				}
				return
			}
			if got != c.v {
				t.Fatalf("Unmarshal = %v (%T), want %v", got, got, c.v)
			}
		})
	}
}

func TestTypedRangeChecks(t *testing.T) {
	cases := []struct {
		name   string
		in     any
		target any
	}{
		{"300 into int8", 300, new(int8)},
		{"-1 into uint", -1, new(uint)},
		{"1.5 into int", 1.5, new(int)},
		{"2^64 float into uint64", math.Pow(2, 64), new(uint64)},
		{"uint64 max into int64", uint64(math.MaxUint64), new(int64)},
		{"string into int", "5", new(int)},
		{"int into string", 5, new(string)},
		{"map into slice", protocol.Object{}, new([]int)},
		{"array into struct", []any{}, new(Address)},
		{"1e300 into float32", 1e300, new(float32)},
		{"string into time", "2024", new(time.Time)},
		{"Set into Map", protocol.Set{}, new(protocol.Map)},
		{"string into error", "x", new(error)},
		{"bad map key", protocol.Object{{Key: "x", Value: 1}}, new(map[int]int)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := protocol.Marshal(c.in)
			if err != nil {
				t.Fatal(err)
			}
			err = protocol.Unmarshal(b, c.target)
			wantErr(t, err, protocol.ErrTypeMismatch)
			var de *protocol.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%v is not a *DecodeError", err)
			}
		})
	}
	wantErr(t, protocol.Unmarshal([]byte{0}, 5), protocol.ErrTypeMismatch)
	wantErr(t, protocol.Unmarshal([]byte{0}, (*int)(nil)), protocol.ErrTypeMismatch)
}

func TestTypedGenericTargets(t *testing.T) {
	te := &protocol.TitanError{Name: "TitanError", Code: 404, Message: "nope", Timestamp: 1}
	te.SetGoCode("not_found")
	in, err := protocol.Marshal([]any{te, map[string]any{"b": 1, "a": []any{true}}, protocol.Long{Bits: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var parts []protocol.RawValue
	if err := protocol.Unmarshal(in, &parts); err != nil || len(parts) != 3 {
		t.Fatalf("Unmarshal([]RawValue) = %d parts, %v", len(parts), err)
	}
	var gotErr error
	if err := protocol.Unmarshal(parts[0], &gotErr); err != nil {
		t.Fatal(err)
	}
	var asTitan *protocol.TitanError
	if !errors.As(gotErr, &asTitan) || asTitan.Code != 404 || asTitan.GoCode() != "not_found" || asTitan.Category() != "client" {
		t.Fatalf("decoded error %#v", gotErr)
	}
	var m map[string]any
	if err := protocol.Unmarshal(parts[1], &m); err != nil || len(m) != 2 {
		t.Fatalf("map[string]any = %v, %v", m, err)
	}
	var o protocol.Object
	if err := protocol.Unmarshal(parts[1], &o); err != nil || o[0].Key != "a" {
		t.Fatalf("Object = %v, %v", o, err)
	}
	var n big.Int
	if err := protocol.Unmarshal(parts[2], &n); err != nil || n.Int64() != 5 {
		t.Fatalf("big.Int from Long = %v, %v", &n, err)
	}
	re, err := protocol.Marshal(parts)
	if err != nil || !bytes.Equal(re, in) {
		t.Fatalf("re-encoding RawValues: %x, %v", re, err)
	}
}

type failure struct{ msg string }

func (f failure) Error() string { return f.msg }

func TestGoErrorsEncodeAsJSError(t *testing.T) {
	for _, v := range []any{errors.New("boom"), failure{"boom"}, struct{ E error }{errors.New("boom")}} {
		b, err := protocol.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		d, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := d.(protocol.Object); ok {
			d = o[0].Value
		}
		je, ok := d.(*protocol.JSError)
		if !ok || je.Message != "boom" || je.Name != "Error" || je.Class != protocol.ClassError || je.Stack != "" {
			t.Fatalf("%T encoded as %#v", v, d)
		}
	}
	// A plain Go error as TitanError cause becomes the plain-error map.
	te := &protocol.TitanError{Name: "TitanError", Code: 500, Message: "outer", Cause: errors.New("inner")}
	b, err := protocol.Marshal(te)
	if err != nil {
		t.Fatal(err)
	}
	d, err := protocol.DecodeValue(b, protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := d.(*protocol.TitanError).Cause.(*protocol.ErrorCause)
	if !ok || c.Message != "inner" || c.Name != "Error" {
		t.Fatalf("cause = %#v", d.(*protocol.TitanError).Cause)
	}
}

func TestZeroTimeAndNilContainers(t *testing.T) {
	type s struct {
		T time.Time      `json:"t"`
		L []int          `json:"l"`
		B []byte         `json:"b"`
		M map[string]int `json:"m"`
		P *int           `json:"p"`
	}
	b, err := protocol.Marshal(s{})
	if err != nil {
		t.Fatal(err)
	}
	want := h("85 a174 c0 a16c 90 a162 c400 a16d 80 a170 c0")
	if !bytes.Equal(b, want) {
		t.Fatalf("got %x, want %x", b, want)
	}
}

type blob []byte

// TestBufferJSONDecodesIntoBytes: the JSON form of a Node Buffer (what an
// HTTP client sends for a []byte argument, and what a Buffer result
// becomes in JSON) decodes into a byte slice; other maps do not.
func TestBufferJSONDecodesIntoBytes(t *testing.T) {
	enc := func(o protocol.Object) []byte {
		b, err := protocol.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	buf := enc(protocol.Object{{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{int64(104), 105.0, uint64(255), int64(0)}}})
	var b []byte
	if err := protocol.Unmarshal(buf, &b); err != nil || string(b) != "hi\xff\x00" {
		t.Fatalf("[]byte: %q %v", b, err)
	}
	var named blob
	if err := protocol.Unmarshal(buf, &named); err != nil || string(named) != "hi\xff\x00" {
		t.Fatalf("named: %q %v", named, err)
	}
	// From the JSON text, keys in either order.
	j, err := protocol.AppendJSON(nil, []byte(`{"data":[1,2],"type":"Buffer"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.Unmarshal(j, &b); err != nil || string(b) != "\x01\x02" {
		t.Fatalf("from JSON: %q %v", b, err)
	}
	for name, o := range map[string]protocol.Object{
		"another type":  {{Key: "type", Value: "Blob"}, {Key: "data", Value: []any{int64(1)}}},
		"not a byte":    {{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{int64(256)}}},
		"negative":      {{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{int64(-1)}}},
		"a fraction":    {{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{1.5}}},
		"a string":      {{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{"1"}}},
		"data not list": {{Key: "type", Value: "Buffer"}, {Key: "data", Value: "AQI="}},
		"no data":       {{Key: "type", Value: "Buffer"}},
		"an extra key":  {{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{}}, {Key: "x", Value: 1.0}},
	} {
		if err := protocol.Unmarshal(enc(o), &b); !errors.Is(err, protocol.ErrTypeMismatch) {
			t.Errorf("%s: err %v, want a type mismatch", name, err)
		}
	}
	var ints []int
	if err := protocol.Unmarshal(buf, &ints); !errors.Is(err, protocol.ErrTypeMismatch) {
		t.Errorf("[]int from a Buffer object: %v", err)
	}
}
