package protocol_test

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// reflectHeader is the struct the engine encoded by reflection before
// CallHeader: the typed codec must write the same bytes and read the same
// values.
type reflectHeader struct {
	Timeout  int64             `json:"t,omitempty"`
	Metadata map[string]string `json:"m,omitempty"`
}

func sampleHeaders() []protocol.CallHeader {
	long := string(bytes.Repeat([]byte("v"), 300))
	many := map[string]string{}
	for i := range 40 {
		many[fmt.Sprintf("k%02d", 39-i)] = fmt.Sprint(i)
	}
	return []protocol.CallHeader{
		{},
		{Timeout: 1},
		{Timeout: 127}, {Timeout: 128}, {Timeout: 255}, {Timeout: 256}, {Timeout: 65535}, {Timeout: 65536},
		{Timeout: math.MaxUint32}, {Timeout: math.MaxUint32 + 1}, {Timeout: 1 << 53}, {Timeout: 1<<53 + 1},
		{Timeout: math.MaxInt64}, {Timeout: -1}, {Timeout: -40}, {Timeout: math.MinInt64},
		{Metadata: map[string]string{"authorization": "Bearer bench-token"}},
		{Timeout: 4999, Metadata: map[string]string{"b": "2", "a": "1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		{Metadata: map[string]string{"": "", "é": "ü", "long": long}},
		{Metadata: many},
		{Metadata: map[string]string{}}, // empty: left out, like omitempty
	}
}

// The typed encoder writes what the reflective one wrote; the typed decoder
// reads back what Unmarshal reads.
func TestCallHeaderAgreesWithReflection(t *testing.T) {
	for i, h := range sampleHeaders() {
		want, err := protocol.AppendValue(nil, reflectHeader{Timeout: h.Timeout, Metadata: h.Metadata})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := protocol.AppendCallHeader(nil, &h)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("header %d (%+v):\n typed      % x\n reflective % x", i, h, got, want)
		}
		var typed protocol.CallHeader
		if err := typed.Decode(want, protocol.Limits{}); err != nil {
			t.Fatalf("header %d: Decode: %v", i, err)
		}
		var refl reflectHeader
		if err := protocol.Unmarshal(want, &refl); err != nil {
			t.Fatalf("header %d: Unmarshal: %v", i, err)
		}
		if typed.Timeout != refl.Timeout || !maps.Equal(typed.Metadata, refl.Metadata) {
			t.Fatalf("header %d: Decode = %+v, Unmarshal = %+v", i, typed, refl)
		}
	}
}

// Headers other encoders may write are read too: nil, unknown keys, keys
// in any order, a timeout written as a float.
func TestCallHeaderDecodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want protocol.CallHeader
	}{
		{"nil", nil, protocol.CallHeader{}},
		{"unknown keys", protocol.Object{{Key: "x", Value: []any{1, "a"}}, {Key: "t", Value: 5}}, protocol.CallHeader{Timeout: 5}},
		{"m before t", protocol.Object{{Key: "m", Value: map[string]any{"a": "b"}}, {Key: "t", Value: 9}}, protocol.CallHeader{Timeout: 9, Metadata: map[string]string{"a": "b"}}},
		{"float timeout", protocol.Object{{Key: "t", Value: 1e10}}, protocol.CallHeader{Timeout: 1e10}},
		{"nil metadata", protocol.Object{{Key: "m", Value: nil}}, protocol.CallHeader{}},
	} {
		b, err := protocol.AppendValue(nil, tc.v)
		if err != nil {
			t.Fatal(err)
		}
		var h protocol.CallHeader
		if err := h.Decode(b, protocol.Limits{}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if h.Timeout != tc.want.Timeout || !maps.Equal(h.Metadata, tc.want.Metadata) {
			t.Fatalf("%s: got %+v, want %+v", tc.name, h, tc.want)
		}
	}
}

// Bad headers are errors that say what is wrong, never a panic.
func TestCallHeaderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"not a map", []any{1}, "expected a map"},
		{"fractional timeout", protocol.Object{{Key: "t", Value: 1.5}}, "whole number of milliseconds"},
		{"string timeout", protocol.Object{{Key: "t", Value: "5"}}, "whole number of milliseconds"},
		{"metadata not a map", protocol.Object{{Key: "m", Value: "x"}}, "expected a map of strings"},
		{"metadata value not a string", protocol.Object{{Key: "m", Value: map[string]any{"a": 1}}}, `m["a"]: expected a string`},
	} {
		b, err := protocol.AppendValue(nil, tc.v)
		if err != nil {
			t.Fatal(err)
		}
		var h protocol.CallHeader
		err = h.Decode(b, protocol.Limits{})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
			t.Fatalf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	var h protocol.CallHeader
	if err := h.Decode([]byte{0x80, 0xc0}, protocol.Limits{}); err == nil {
		t.Fatal("trailing bytes accepted")
	}
	if err := h.Decode(bytes.Repeat([]byte{0x81, 0xa1, 'x'}, 200), protocol.Limits{MaxDepth: 16}); err == nil {
		t.Fatal("nesting beyond MaxDepth accepted")
	}
}

func TestCallHeaderAllocations(t *testing.T) {
	h := protocol.CallHeader{Timeout: 4999, Metadata: map[string]string{"authorization": "Bearer bench-token"}}
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf, _ = protocol.AppendCallHeader(buf[:0], &h) }); n != 0 {
		t.Fatalf("AppendCallHeader: %v allocations, want 0", n)
	}
	b, _ := protocol.AppendCallHeader(nil, &h)
	var d protocol.CallHeader
	// The map, its bucket and the two strings.
	if n := testing.AllocsPerRun(100, func() { _ = d.Decode(b, protocol.Limits{}) }); n > 4 {
		t.Fatalf("Decode: %v allocations, want at most 4", n)
	}
}

// FuzzCallHeader: whatever the bytes, Decode returns a header or an error
// and never panics; a header it reads is written back to bytes it reads
// the same again.
func FuzzCallHeader(f *testing.F) {
	for _, h := range sampleHeaders() {
		b, _ := protocol.AppendCallHeader(nil, &h)
		f.Add(b)
	}
	f.Add([]byte{0xc0})
	f.Add([]byte{0x81, 0xa1, 't', 0xcb, 0x41, 0xe0, 0, 0, 0, 0, 0, 0})
	// One Interner for every input, as a connection has one for every
	// header it reads: whatever it keeps, it decodes as Decode does.
	in := protocol.NewInterner(64, 64)
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := protocol.Limits{MaxFrameSize: 1 << 16, MaxDepth: 32}
		var h protocol.CallHeader
		err := h.Decode(b, lim)
		for range 2 { // the second time from what the first kept
			var hi protocol.CallHeader
			ierr := hi.DecodeInterned(b, lim, in)
			if (err == nil) != (ierr == nil) || err != nil && err.Error() != ierr.Error() {
				t.Fatalf("Decode: %v; DecodeInterned: %v", err, ierr)
			}
			if hi.Timeout != h.Timeout || !maps.Equal(hi.Metadata, h.Metadata) || (hi.Metadata == nil) != (h.Metadata == nil) {
				t.Fatalf("Decode: %+v; DecodeInterned: %+v", h, hi)
			}
		}
		if err != nil {
			return
		}
		again, ok := protocol.AppendCallHeader(nil, &h)
		if !ok {
			return
		}
		var h2 protocol.CallHeader
		if err := h2.Decode(again, protocol.Limits{}); err != nil {
			t.Fatalf("re-encoded header % x does not decode: %v", again, err)
		}
		if h2.Timeout != h.Timeout || !maps.Equal(h2.Metadata, h.Metadata) {
			t.Fatalf("round trip: %+v then %+v", h, h2)
		}
		want, err := protocol.AppendValue(nil, reflectHeader{Timeout: h.Timeout, Metadata: h.Metadata})
		if err != nil || !bytes.Equal(again, want) {
			t.Fatalf("typed % x, reflective % x (%v)", again, want, err)
		}
	})
}

// A connection's Interner makes the strings a peer repeats once; it keeps
// no more strings, and no longer ones, than it was given.
func TestInterner(t *testing.T) {
	in := protocol.NewInterner(2, 8)
	h := protocol.CallHeader{Metadata: map[string]string{"auth": "token"}}
	b, _ := protocol.AppendCallHeader(nil, &h)
	var d protocol.CallHeader
	if err := d.DecodeInterned(b, protocol.Limits{}, in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = d.DecodeInterned(b, protocol.Limits{}, in) }); n != 0 {
		t.Fatalf("DecodeInterned of a repeated header: %v allocations, want none (the map is kept)", n)
	}
	if !maps.Equal(d.Metadata, h.Metadata) {
		t.Fatalf("got %v, want %v", d.Metadata, h.Metadata)
	}
	// Full: a third distinct string, and a long one, are made but not kept.
	kept := []byte("auth")
	if n := testing.AllocsPerRun(10, func() { _ = in.String(kept) }); n != 0 {
		t.Fatalf("a kept string costs %v allocations", n)
	}
	for _, s := range []string{"third", "much longer than eight"} {
		b := []byte(s)
		if got := in.String(b); got != s {
			t.Fatalf("String(%q) = %q", s, got)
		}
		if n := testing.AllocsPerRun(10, func() { _ = in.String(b) }); n == 0 {
			t.Fatalf("%q was kept by a full interner", s)
		}
	}
}

// An Interner keeps the last few metadata maps by their encoding: a header
// with the same metadata gets the same map, whatever its timeout; other
// metadata gets its own map; a fifth encoding replaces the oldest; an
// encoding over 512 bytes is not kept.
func TestInternerKeepsMetadata(t *testing.T) {
	in := protocol.NewInterner(64, 64)
	decode := func(h protocol.CallHeader) map[string]string {
		t.Helper()
		b, _ := protocol.AppendCallHeader(nil, &h)
		var d protocol.CallHeader
		if err := d.DecodeInterned(b, protocol.Limits{}, in); err != nil {
			t.Fatal(err)
		}
		if d.Timeout != h.Timeout || !maps.Equal(d.Metadata, h.Metadata) {
			t.Fatalf("decoded %+v, want %+v", d, h)
		}
		return d.Metadata
	}
	same := func(a, b map[string]string) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	md := func(i int) map[string]string {
		return map[string]string{"authorization": "Bearer " + strconv.Itoa(i), "tenant": "t"}
	}

	first := decode(protocol.CallHeader{Timeout: 5, Metadata: md(0)})
	if again := decode(protocol.CallHeader{Timeout: 900, Metadata: md(0)}); !same(first, again) {
		t.Fatal("the same metadata with another timeout got a new map")
	}
	if again := decode(protocol.CallHeader{Metadata: md(0)}); !same(first, again) {
		t.Fatal("the same metadata without a timeout got a new map")
	}
	other := decode(protocol.CallHeader{Metadata: md(1)})
	if same(first, other) {
		t.Fatal("other metadata got the first map")
	}
	// Keys sort the same; a value that differs only in its last byte.
	if m := decode(protocol.CallHeader{Metadata: map[string]string{"authorization": "Bearer 0", "tenant": "u"}}); same(first, m) {
		t.Fatal("metadata that differs in its last byte got the first map")
	}
	for i := 2; i < 5; i++ { // three more: the first is replaced
		decode(protocol.CallHeader{Metadata: md(i)})
	}
	if again := decode(protocol.CallHeader{Metadata: md(0)}); same(first, again) {
		t.Fatal("a fifth encoding did not replace the oldest")
	}
	long := map[string]string{"authorization": strings.Repeat("x", 600)}
	if a, b := decode(protocol.CallHeader{Metadata: long}), decode(protocol.CallHeader{Metadata: long}); same(a, b) {
		t.Fatal("metadata over 512 bytes was kept")
	}
	many := map[string]string{}
	for i := range 17 {
		many[strconv.Itoa(i)] = "v"
	}
	if a, b := decode(protocol.CallHeader{Metadata: many}), decode(protocol.CallHeader{Metadata: many}); same(a, b) {
		t.Fatal("metadata of 17 keys was kept")
	}
	// A header may count more keys than it has (a key repeated): the map
	// is made for the count, so the count is what bounds what is kept.
	dup := []byte{0x81, 0xa1, 'm', 0xde, 0x00, 0x11} // {"m": map16 of 17 entries}
	for range 17 {
		dup = append(dup, 0xa0, 0xa0) // "": ""
	}
	var r1, r2 protocol.CallHeader
	if err := r1.DecodeInterned(dup, protocol.Limits{}, in); err != nil {
		t.Fatal(err)
	}
	if err := r2.DecodeInterned(dup, protocol.Limits{}, in); err != nil {
		t.Fatal(err)
	}
	if len(r1.Metadata) != 1 || same(r1.Metadata, r2.Metadata) {
		t.Fatalf("a header counting 17 keys (one, repeated): %v, kept: %v", r1.Metadata, same(r1.Metadata, r2.Metadata))
	}
	// Decode, without an Interner, makes a new map each time.
	h := protocol.CallHeader{Metadata: md(0)}
	b, _ := protocol.AppendCallHeader(nil, &h)
	var d1, d2 protocol.CallHeader
	if err := d1.Decode(b, protocol.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := d2.Decode(b, protocol.Limits{}); err != nil {
		t.Fatal(err)
	}
	if same(d1.Metadata, d2.Metadata) {
		t.Fatal("Decode shared a map")
	}
}
