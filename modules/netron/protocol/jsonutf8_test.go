package protocol

import (
	"bytes"
	"reflect"
	"testing"
)

// TestAppendValueJSONInvalidUTF8AsWire: a Go string, []any or
// map[string]any holding invalid UTF-8 is written as its encoding is
// (what a Netron client decodes and what a struct field of the same
// string gives): one U+FFFD per maximal ill-formed subsequence.
func TestAppendValueJSONInvalidUTF8AsWire(t *testing.T) {
	for _, v := range []any{
		"a\xe2\x82b",
		[]any{"a\xe2\x82b"},
		Object{{Key: "k\xe2\x82", Value: "v\xf0\x9f\x98"}},
		map[string]any{"k\xe2\x82": "v\xf0\x9f\x98"},
		map[string]any{"\xe2": 1, "\xe2\x82": 2}, // one key once replaced
		struct{ S string }{"a\xe2\x82b"},
	} {
		got, err := AppendValueJSON(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := AppendValueJSON(nil, throughWire(t, v))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("AppendValueJSON(%#v) = %s; its encoding gives %s", v, got, want)
		}
	}
}

// TestToJSONInvalidUTF8AsWire: ToJSON gives a Go string holding invalid
// UTF-8 as the TypeScript side has it, replaced as the decoders replace
// it, whether the string stands alone or in a typed slice.
func TestToJSONInvalidUTF8AsWire(t *testing.T) {
	for _, v := range []any{"a\xe2\x82b", []any{"a\xe2\x82b"}, map[string]any{"k\xe2\x82": "v"}} {
		got, err := ToJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ToJSON(throughWire(t, v))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ToJSON(%#v) = %#v; its encoding gives %#v", v, got, want)
		}
	}
}

// throughWire is v as a peer decodes it: encoded, then decoded.
func throughWire(t *testing.T, v any) any {
	t.Helper()
	raw, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeValue(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
