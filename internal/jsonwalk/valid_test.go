package jsonwalk

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// validCases are texts on both sides of every rule of the grammar.
var validCases = []string{
	``, ` `, `null`, ` null `, `nul`, `nulll`, `true`, `false`, `True`, `t`, `fals`,
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `+1`, `-1.5e-10`, `1.5.5`, `0x10`, `1 2`,
	`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u00e"`, `"\x"`, `"\`, `"abc`,
	"\"\x00\"", "\"\x1f\"", "\"\x7f\"", "\"\xff\xfe\"", "\"\t\"", `"é"`,
	`[]`, `[ ]`, `[1]`, `[1,]`, `[,1]`, `[1 2]`, `[1,2]`, `[`, `]`, `[[]]`, `[[]`, `[]]`, `[}`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{1:1}`, `{"a":1 "b":2}`, `{"a":1,"b":[{"c":null}]}`, `{`, `{"a":1]`, `{]`,
	"\t\n\r [1] \r\n", "\v[1]", "[1]\x00", "\ufeff[1]",
	`[1,{"a":[true,false,null,"x",-0.5e3]},"]"]`,
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range validCases {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

func TestValidDepth(t *testing.T) {
	for _, tc := range []struct {
		depth int
		inner string
	}{
		{MaxDepth, ""}, {MaxDepth + 1, ""}, {MaxDepth, "1"}, {MaxDepth + 1, "1"},
	} {
		for _, open := range []string{"[", `{"k":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			inner := tc.inner
			if inner == "" { // the innermost container is empty
				inner = strings.Replace(open, `"k":`, "", 1) + close
			}
			s := []byte(strings.Repeat(open, tc.depth-1) + inner + strings.Repeat(close, tc.depth-1))
			if tc.inner != "" {
				s = []byte(strings.Repeat(open, tc.depth) + inner + strings.Repeat(close, tc.depth))
			}
			if got, want := Valid(s), json.Valid(s); got != want {
				t.Errorf("depth %d, %q…: Valid %v, encoding/json %v", tc.depth, s[:4], got, want)
			}
		}
	}
	if !Valid([]byte(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth))) {
		t.Error("the deepest nesting allowed is refused")
	}
	if Valid([]byte(strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1))) {
		t.Error("nesting past the limit is accepted")
	}
}

// FuzzValid holds Valid to encoding/json's answer on any bytes.
func FuzzValid(f *testing.F) {
	for _, s := range validCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		if got := Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		if _, st := Index(b, MaxDepth, nil); (st == Ok) != want {
			t.Fatalf("Index(%q) = %v, encoding/json says %v", b, st, want)
		}
		for _, key := range []string{"data", "input", ""} {
			v, ok := ValidOutside(b, key)
			if !ok {
				continue
			}
			got := v == nil
			if !got {
				_, st := Index(v, MaxDepth-1, nil)
				got = st == Ok
			}
			if got != want {
				t.Fatalf("ValidOutside(%q, %q) = %q, ok: the value's validity says %v, encoding/json %v", b, key, v, got, want)
			}
			var last []byte
			n := 0
			Members(b, func(k, value []byte) bool {
				if View(k) == key {
					last, n = value, n+1
				}
				return true
			})
			if want && (n > 1 || !bytes.Equal(last, v) || (last == nil) != (v == nil)) {
				t.Fatalf("ValidOutside(%q, %q) = %q; Members finds %d, the last %q", b, key, v, n, last)
			}
		}
	})
}

// ValidOutside: what it delimits and what it cannot tell.
func TestValidOutside(t *testing.T) {
	for _, c := range []struct {
		text, value string
		ok          bool
	}{
		{`{"success":true,"data":[1,{"a":"}"}]}`, `[1,{"a":"}"}]`, true},
		{` { "data" : "x" , "id" : 1 } `, `"x"`, true},
		{`{"id":1}`, ``, true},
		{`{}`, ``, true},
		{`{"data":[1,2}`, ``, false},             // the delimiting runs past the object's end
		{`{"data":[1,2},"id":1}`, `[1,2}`, true}, // the value is the caller's to refuse
		{`{"data":1,"id":[}`, ``, false},
		{`{"data":1,"data":2}`, ``, false},
		{`{"d\u0061ta":1}`, ``, false},
		{`[1]`, ``, false},
		{`{"data":1}x`, ``, false},
		{`{"data":1`, ``, false},
		{`{"data":1,}`, ``, false},
	} {
		v, ok := ValidOutside([]byte(c.text), "data")
		if ok != c.ok || string(v) != c.value {
			t.Errorf("ValidOutside(%s) = %q, %v; want %q, %v", c.text, v, ok, c.value, c.ok)
		}
	}
}

func BenchmarkValid(b *testing.B) {
	text := []byte(`{"id":"hv5siqo5q-1","service":"echo@1.0.0","method":"echo","input":["` + strings.Repeat("x", 4096) + `"],"hints":{"timeout":30000}}`)
	b.Run("jsonwalk", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if !Valid(text) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if !json.Valid(text) {
				b.Fatal("invalid")
			}
		}
	})
}

// FuzzStringEnd: the end StringEnd finds for the JSON text of any string,
// followed by more text, is the text's end; Plain says whether the inside
// is the string itself.
func FuzzStringEnd(f *testing.F) {
	for _, s := range []string{``, `a`, `"`, `\`, `\\`, `\"`, `a\\"b`, `\\\"`, "é\x00\xff", `\u0022`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, _ := json.Marshal(s)
		for _, after := range []string{"", `,"x\\"`, `]`} {
			b := append(append([]byte(nil), text...), after...)
			if end := StringEnd(b, 0); end != len(text) {
				t.Fatalf("StringEnd(%s) = %d, want %d", b, end, len(text))
			}
		}
		in := text[1 : len(text)-1]
		if plain := Plain(in); plain != (string(in) == s) {
			t.Fatalf("Plain(%s) = %v for %q", in, plain, s)
		}
	})
}

// TestIndex: a Box per container in the order they open, with its count,
// end and the ordinal after it; the nesting limit; invalid text.
func TestIndex(t *testing.T) {
	text := []byte(` {"a":[1,[],{"b":2}],"c":{},"a":[3]} `)
	boxes, st := Index(text, 3, nil)
	want := []Box{
		{Count: 3, End: 36, Next: 6}, // the outer object: a, c, a again
		{Count: 3, End: 20, Next: 4}, // [1,[],{"b":2}]
		{Count: 0, End: 11, Next: 3}, // []
		{Count: 1, End: 19, Next: 4}, // {"b":2}
		{Count: 0, End: 27, Next: 5}, // {}
		{Count: 1, End: 35, Next: 6}, // [3]
	}
	if st != Ok || !reflect.DeepEqual(boxes, want) {
		t.Fatalf("Index = %+v, %v; want %+v, Ok", boxes, st, want)
	}
	if _, st := Index(text, 2, nil); st != TooDeep {
		t.Errorf("Index with at most 2 levels = %v, want TooDeep", st)
	}
	if _, st := Index([]byte(`{"a":[1,]}`), 10, nil); st != Invalid {
		t.Errorf("Index of a trailing comma = %v, want Invalid", st)
	}
}
