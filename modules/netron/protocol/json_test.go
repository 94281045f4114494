package protocol_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

func TestToJSON(t *testing.T) {
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"undefined top level", protocol.Undefined{}, `null`},
		{"undefined property omitted, in array null", protocol.Object{{Key: "a", Value: protocol.Undefined{}}, {Key: "b", Value: []any{protocol.Undefined{}, 1}}}, `{"b":[null,1]}`},
		{"numbers", []any{int64(5), uint64(math.MaxUint64), 1.5, 1e21, 1e-7, 123456789.125, math.Copysign(0, -1), math.NaN(), math.Inf(1)},
			`[5,18446744073709551615,1.5,1e+21,1e-7,123456789.125,0,null,null]`},
		{"date", time.UnixMilli(1718000000000), `"2024-06-10T06:13:20.000Z"`},
		{"zero time", time.Time{}, `null`},
		{"bigint keeps digits", huge, `123456789012345678901234567890`},
		{"bin as Buffer", []byte{0, 255}, `{"data":[0,255],"type":"Buffer"}`},
		{"Map Set RegExp", []any{protocol.Map{{Key: 1, Value: 2}}, protocol.Set{1}, protocol.RegExp{Source: "a"}}, `[{},{},{}]`},
		{"Long", protocol.Long{Bits: math.MaxUint64}, `{"high":-1,"low":-1,"unsigned":false}`},
		{"TitanError", &protocol.TitanError{Name: "TitanError", Code: 404, Message: "nope", Timestamp: 1718000000000, TraceID: "t", Stack: "secret"},
			`{"code":404,"context":{},"details":{},"message":"nope","name":"TitanError","timestamp":1718000000000,"traceId":"t"}`},
		{"JSError", &protocol.JSError{Class: protocol.ClassTypeError, Name: "TypeError", Message: "m", Stack: "s", Fields: protocol.Object{{Key: "code", Value: "E"}}},
			`{"code":"E","message":"m","name":"TypeError"}`},
		{"Definition", &protocol.Definition{ID: "i", PeerID: "p", Meta: protocol.Object{{Key: "name", Value: "x"}}},
			`{"id":"i","meta":{"name":"x"},"parentId":"","peerId":"p"}`},
		{"StreamReference", protocol.StreamReference{StreamID: 1, Kind: protocol.StreamWritable, IsLive: true, PeerID: "p"},
			`{"isLive":true,"peerId":"p","streamId":1,"type":"writable"}`},
		{"struct by json tags", Address{City: "Oslo"}, `{"city":"Oslo"}`},
		{"raw value", protocol.RawValue(h("92 01 a161")), `[1,"a"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j, err := protocol.ToJSON(c.in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Fatalf("ToJSON = %s, want %s", out, c.want)
			}
		})
	}
}

func TestFromJSON(t *testing.T) {
	cases := []struct {
		name string
		json string
		hex  string
	}{
		{"object keys sorted", `{"z":1,"a":[true,null,"x"]}`, "82 a161 93 c3 c0 a178 a17a 01"},
		{"int64 exact", `9007199254740993`, "cf 0020000000000001"},
		{"uint64", `18446744073709551615`, "cf ffffffffffffffff"},
		{"beyond uint64 becomes float", `18446744073709551616`, "cb 43f0000000000000"},
		{"fraction", `2.5`, "cb 4004000000000000"},
		{"integral float literal", `3.0`, "03"},
		{"timestamp", `1718000000000`, "cb 4279000c79c00000"},
		{"no revival", `"2024-06-10T06:13:20.000Z"`, "b8 323032342d30362d31305430363a31333a32302e3030305a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(c.json))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			n, err := protocol.FromJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			b, err := protocol.Marshal(n)
			if err != nil {
				t.Fatal(err)
			}
			if want := h(c.hex); !bytes.Equal(b, want) {
				t.Fatalf("got %x, want %x", b, want)
			}
		})
	}
	if _, err := protocol.FromJSON(struct{}{}); err == nil {
		t.Fatal("FromJSON accepted a struct")
	}
}

// TestJSONRoundTrip: JSON -> Netron -> JSON is the identity for plain JSON.
func TestJSONRoundTrip(t *testing.T) {
	in := `{"a":[1,-2,3.25,"s",true,false,null,{"b":{}}],"big":12345678901234567890,"n":-9007199254740993}`
	dec := json.NewDecoder(strings.NewReader(in))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	n, err := protocol.FromJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := protocol.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	g, err := protocol.DecodeValue(b, protocol.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := protocol.ToJSON(g)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
}

// ToJSONForContract is ToJSON with binary data's bytes left out, at any
// depth; everything else is the same.
func TestToJSONForContract(t *testing.T) {
	v := protocol.Object{{Key: "name", Value: "x"}, {Key: "data", Value: []byte{1, 2, 3}},
		{Key: "list", Value: []any{[]byte{9}, int64(7)}}}
	full, err := protocol.ToJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := protocol.ToJSONForContract(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"data":{"data":[],"type":"Buffer"},"list":[{"data":[],"type":"Buffer"},7],"name":"x"}`
	if b, _ := json.Marshal(compact); string(b) != want {
		t.Fatalf("ToJSONForContract = %s, want %s", b, want)
	}
	if b, _ := json.Marshal(full); string(b) != `{"data":{"data":[1,2,3],"type":"Buffer"},"list":[{"data":[9],"type":"Buffer"},7],"name":"x"}` {
		t.Fatalf("ToJSON = %s: the full form changed", b)
	}
}
