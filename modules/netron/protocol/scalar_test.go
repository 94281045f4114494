package protocol

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// Named types take the cached reflective decoders; the predeclared ones
// take UnmarshalScalar. Both must agree on every input.
type (
	nString  string
	nBool    bool
	nInt     int
	nInt64   int64
	nFloat64 float64
	nBytes   []byte
)

// sameScalar checks that both paths agree on data for every scalar type.
func sameScalar(t *testing.T, data []byte) {
	t.Helper()
	check := func(name string, fastV, slowV any, fastErr, slowErr error) {
		t.Helper()
		if (fastErr == nil) != (slowErr == nil) {
			t.Fatalf("% x into %s: fast path error %v, reflective path error %v", data, name, fastErr, slowErr)
		}
		if fastErr != nil {
			for _, sentinel := range []error{ErrTypeMismatch, ErrTruncated, ErrTrailingBytes, ErrTooLarge, ErrTooDeep} {
				if errors.Is(fastErr, sentinel) != errors.Is(slowErr, sentinel) {
					t.Fatalf("% x into %s: fast path error %v, reflective path error %v", data, name, fastErr, slowErr)
				}
			}
			return
		}
		if fb, ok := fastV.([]byte); ok {
			if sb := slowV.([]byte); string(fb) != string(sb) || (fb == nil) != (sb == nil) {
				t.Fatalf("% x into []byte: fast path %v, reflective path %v", data, fb, sb)
			}
			return
		}
		if fastV != slowV && !(name == "float64" && math.IsNaN(fastV.(float64)) && math.IsNaN(slowV.(float64))) {
			t.Fatalf("% x into %s: fast path %v, reflective path %v", data, name, fastV, slowV)
		}
	}
	var (
		s  string
		ns nString
		b  bool
		nb nBool
		i  int
		ni nInt
		j  int64
		nj nInt64
		f  float64
		nf nFloat64
	)
	e1, e2 := Unmarshal(data, &s), Unmarshal(data, &ns)
	check("string", s, string(ns), e1, e2)
	e1, e2 = Unmarshal(data, &b), Unmarshal(data, &nb)
	check("bool", b, bool(nb), e1, e2)
	e1, e2 = Unmarshal(data, &i), Unmarshal(data, &ni)
	check("int", i, int(ni), e1, e2)
	e1, e2 = Unmarshal(data, &j), Unmarshal(data, &nj)
	check("int64", j, int64(nj), e1, e2)
	e1, e2 = Unmarshal(data, &f), Unmarshal(data, &nf)
	check("float64", f, float64(nf), e1, e2)
	var (
		by  []byte
		nby nBytes
	)
	e1, e2 = Unmarshal(data, &by), Unmarshal(data, &nby)
	check("[]byte", by, []byte(nby), e1, e2)
}

var scalarSeeds = [][]byte{
	{0xa3, 'a', 'b', 'c'}, {0xc0}, {0xd4, 0x00, 0x00}, {0xc3}, {0xc2}, {0x05}, {0xff},
	{0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}, // 3.14159…
	{0xcb, 0x40, 0x59, 0, 0, 0, 0, 0, 0},                   // 100.0: an integral float fills integers
	{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, // uint64 max
	{0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0},                      // int64 min
	{0xa1, 0xff},                                           // invalid UTF-8
	{0xa3, 'a'}, {}, {0x01, 0x02}, {0x91, 0x01}, {0x80},
	{0xd9, 0x05, 'h', 'e', 'l', 'l', 'o'},
	{0xc4, 0x03, 1, 2, 3}, {0xc4, 0x00}, {0xc4, 0x05, 1}, {0xc5, 0x00, 0x01, 9}, {0xc4, 0x01, 1, 2}, // bins: whole, empty, cut short, bin16, trailing
	{0x81, 0xa4, 't', 'y', 'p', 'e', 0xa6, 'B', 'u', 'f', 'f', 'e', 'r'}, {0x92, 0x01, 0x02}, // a Buffer's JSON form (partial), an array
}

func TestUnmarshalScalarAgreesWithReflection(t *testing.T) {
	for _, data := range scalarSeeds {
		sameScalar(t, data)
	}
}

func TestUnmarshalScalar(t *testing.T) {
	var s string
	if ok, err := UnmarshalScalar([]byte{0xa2, 'h', 'i'}, &s, Limits{}); !ok || err != nil || s != "hi" {
		t.Fatalf("*string: %v %v %q", ok, err, s)
	}
	var m map[string]any
	if ok, _ := UnmarshalScalar([]byte{0x80}, &m, Limits{}); ok {
		t.Fatal("UnmarshalScalar handled a map target")
	}
	var np *string
	if ok, err := UnmarshalScalar([]byte{0xa0}, np, Limits{}); !ok || !errors.Is(err, ErrTypeMismatch) {
		t.Fatalf("nil *string: %v %v", ok, err)
	}
	big := append([]byte{0xda, 0x01, 0x00}, strings.Repeat("x", 256)...)
	if ok, err := UnmarshalScalar(big, &s, Limits{MaxFrameSize: 100}); !ok || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v %v", ok, err)
	}
}

func FuzzUnmarshalScalar(f *testing.F) {
	for _, s := range scalarSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameScalar(t, data) })
}
