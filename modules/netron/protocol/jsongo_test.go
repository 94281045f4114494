package protocol

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The types the compiled JSON writers are held to the two steps on: every
// kind they write, every kind they leave to the two steps, omitempty and
// omitzero, embedding, recursion.
type (
	goJSONInner struct {
		A   int8         `json:"a"`
		B   uint16       `json:"b,omitempty"`
		F32 float32      `json:"f32"`
		S   string       `json:"s,omitzero"`
		P   *goJSONInner `json:"p,omitempty"`
	}
	goJSONEmbedded struct {
		E1 string
		E2 int `json:"e2,omitempty"`
	}
	goJSONZeroer struct{ N int }
	goJSONTree   struct {
		V    int          `json:"v"`
		Kids []goJSONTree `json:"kids,omitempty"`
		Next *goJSONTree  `json:"next,omitempty"`
	}
	goJSONRich struct {
		*goJSONEmbedded
		I      int                             `json:"i"`
		I64    int64                           `json:"i64"`
		U      uint64                          `json:"u"`
		F      float64                         `json:"f"`
		B      bool                            `json:"b"`
		S      string                          `json:"s"`
		Bytes  []byte                          `json:"bytes"`
		Arr    [3]byte                         `json:"arr"`
		Strs   []string                        `json:"strs"`
		Ints   []int                           `json:"ints,omitempty"`
		M      map[string]int                  `json:"m"`
		MI     map[int]string                  `json:"mi,omitempty"`
		MU     map[uint8]bool                  `json:"mu,omitempty"`
		Inner  goJSONInner                     `json:"inner"`
		PI     *goJSONInner                    `json:"pi"`
		List   []goJSONInner                   `json:"list"`
		PList  []*goJSONInner                  `json:"plist,omitempty"`
		Any    any                             `json:"any"`
		Anys   []any                           `json:"anys,omitempty"`
		MAny   map[string]any                  `json:"many,omitempty"`
		T      time.Time                       `json:"t,omitzero"`
		D      time.Duration                   `json:"d,omitempty"`
		TP     *time.Time                      `json:"tp,omitempty"`
		Raw    RawValue                        `json:"raw,omitempty"`
		Big    *big.Int                        `json:"big,omitempty"`
		Nested map[string][]map[string]float64 `json:"nested,omitempty"`
		Tree   *goJSONTree                     `json:"tree,omitempty"`
		Z      goJSONZeroer                    `json:"z,omitzero"`
		Quote  string                          `json:"a\"b\u00e9,omitempty"`
		Float  float32                         `json:"float32"`
	}
)

// IsZero makes omitzero ask the type: N 7 counts as zero.
func (z goJSONZeroer) IsZero() bool { return z.N == 7 }

// checkGoJSON holds appendGoJSONDirect to appendGoJSON on v at depth:
// the same bytes, or the same error.
func checkGoJSON(t *testing.T, v any, depth int) {
	t.Helper()
	want, werr := appendGoJSON([]byte("prefix"), v, depth)
	got, gerr := appendGoJSONDirect([]byte("prefix"), v, depth)
	switch {
	case werr != nil || gerr != nil:
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
			t.Fatalf("%#v: the compiled writer's error is %v, the two steps' %v", v, gerr, werr)
		}
	case !bytes.Equal(got, want):
		t.Fatalf("%#v at depth %d: the compiled writer wrote\n%s\nthe two steps\n%s", v, depth, got, want)
	}
}

// direct reports whether the compiled writer of v's type writes v itself
// (without handing the whole value back to the two steps).
func direct(v any) bool {
	w := goJSONWriter(reflect.TypeOf(v)).w
	if w == nil {
		return false
	}
	_, ok := w(nil, reflect.ValueOf(v), 0)
	return ok
}

// wide returns x: converted to int, a constant beyond 32 bits compiles
// on every platform (and is truncated where int is 32 bits wide).
func wide(x int64) int64 { return x }

func goJSONSamples() []any {
	nan := math.NaN()
	deep := &goJSONTree{V: 0}
	for n, i := deep, 1; i < 40; i++ {
		n.Next = &goJSONTree{V: i}
		n = n.Next
	}
	cycle := &goJSONTree{V: 1}
	cycle.Next = cycle
	ts := time.UnixMilli(1718000000123).UTC()
	rich := goJSONRich{
		goJSONEmbedded: &goJSONEmbedded{E1: "e", E2: 2},
		I:              int(wide(-1 << 40)), I64: math.MinInt64, U: math.MaxUint64, F: 0.1, B: true, S: "tab\there \"q\" é \x01",
		Bytes: []byte{0, 1, 255}, Arr: [3]byte{9, 8, 7}, Strs: []string{"a", ""}, Ints: []int{int(wide(1 << 53)), int(wide(1<<53 + 1)), int(wide(-(1 << 53) - 1))},
		M: map[string]int{"b": 2, "a": 1, "é": 3, "\"": 4}, MI: map[int]string{10: "ten", -1: "minus", 2: "two"}, MU: map[uint8]bool{3: true},
		Inner: goJSONInner{A: -8, B: 16, F32: 0.1, S: "s", P: &goJSONInner{A: 1}},
		PI:    &goJSONInner{}, List: []goJSONInner{{A: 1}, {B: 2}}, PList: []*goJSONInner{nil, {S: "x"}},
		Any: map[string]any{"k": []any{1, "two", 3.5}}, Anys: []any{Undefined{}, nil, ts}, MAny: map[string]any{"u": Undefined{}, "n": nil, "t": ts},
		T: ts, D: 1500 * time.Millisecond, TP: &ts, Raw: RawValue{0x93, 1, 2, 3}, Big: big.NewInt(-12345678901234),
		Nested: map[string][]map[string]float64{"x": {{"y": 1e21, "z": math.Copysign(0, -1)}, nil}},
		Tree:   &goJSONTree{V: 1, Kids: []goJSONTree{{V: 2}, {V: 3, Next: &goJSONTree{V: 4}}}},
		Z:      goJSONZeroer{N: 7}, Quote: "q", Float: float32(1) / 3,
	}
	return []any{
		rich, &rich, goJSONRich{}, &goJSONRich{Z: goJSONZeroer{N: 1}},
		goJSONInner{}, &goJSONInner{F32: float32(math.Inf(1))}, goJSONInner{F32: float32(nan)},
		[]goJSONInner{}, []goJSONInner(nil), map[string]goJSONInner{}, map[string]*goJSONInner{"n": nil},
		[]int64{0, 1, -1, math.MaxInt32, math.MaxInt32 + 1, math.MinInt32, math.MinInt32 - 1, 1 << 32, 1<<53 - 1, 1 << 53, 1<<53 + 1,
			-(1 << 53), -(1 << 53) - 1, math.MaxInt64, math.MinInt64, 1e15, 1e15 + 1, -1e15},
		[]uint64{0, math.MaxUint32, math.MaxUint32 + 1, 1 << 53, 1<<53 + 1, math.MaxUint64},
		[]float64{0, math.Copysign(0, -1), 0.1, 1e15, 1e15 + 0.5, 1e21, 1e-7, -1e300, 123456789012345678, 4294967295, 4294967296, -2147483649, 5e-324},
		[]float64{nan}, []float64{math.Inf(-1)}, map[string]float64{"x": nan},
		[]float32{0.1, 16777217, -0.5},
		[]string{"plain", "\xff\xfe invalid", "a\u2028b", "<html>&amp;", strings.Repeat("long ", 40)},
		map[string]int{"\xff": 1}, map[string]int{"ok": 1, "b\xffad": 2},
		map[string]any{"u": Undefined{}}, map[string]*Undefined{"u": {}, "n": nil}, struct{ U Undefined }{},
		struct {
			A any
			B *Undefined
		}{A: Undefined{}, B: &Undefined{}},
		[][]byte{nil, {}, {1}}, [2][2]int{{1, 2}, {3, 4}}, map[int64][]string{-5: {"x"}, 5: nil},
		struct{ C chan int }{}, map[[2]int]string{{1, 2}: "x"}, struct{ F func() }{F: func() {}},
		deep, cycle, *deep, []*goJSONTree{deep},
		struct {
			Err error
			E   *TitanError
		}{Err: errTestGoJSON("boom")},
		&struct{ P **goJSONInner }{}, map[string]any{"nested": goJSONInner{A: 1}},
		// Undefined behind a chain of pointers: the member is left out.
		func() any {
			var a any = Undefined{}
			pa := &a
			u := &Undefined{}
			raw := &RawValue{0xd4, 0, 0}
			return struct {
				A **any
				P ***Undefined
				R **RawValue
				M map[string]**any
				N **any
			}{A: &pa, P: &[]**Undefined{&u}[0], R: &raw, M: map[string]**any{"k": &pa}}
		}(),
		time.Duration(5), struct{ D []time.Duration }{D: []time.Duration{1, 2}},
		func() any {
			m := make(map[int]int, 1<<16+1)
			for i := range 1<<16 + 1 {
				m[i] = i
			}
			return m
		}(),
	}
}

type errTestGoJSON string

func (e errTestGoJSON) Error() string { return string(e) }

func TestGoJSONAgrees(t *testing.T) {
	checkGoJSON(t, nil, 0)
	for _, v := range goJSONSamples() {
		for _, depth := range []int{0, 5, directMaxDepth - 1, directMaxDepth, DefaultMaxDepth - 2} {
			checkGoJSON(t, v, depth)
		}
	}
}

// TestGoJSONWritesDirectly: the compiled writers take the values they are
// for (a test of the agreement alone would pass if they gave up on all).
func TestGoJSONWritesDirectly(t *testing.T) {
	samples := goJSONSamples()
	for _, v := range []any{samples[0], samples[1], samples[2], goJSONInner{A: 1, P: &goJSONInner{}}, []int64{1 << 40, -1 << 40},
		map[string][]string{"a": {"b"}}, []float32{0.5}, &goJSONTree{V: 1, Kids: []goJSONTree{{V: 2}}}} {
		if !direct(v) {
			t.Errorf("%T: written by the two steps, want the compiled writer", v)
		}
	}
	for _, v := range []any{[]float64{math.NaN()}, map[string]int{"\xff": 1}, samples[len(samples)-1]} {
		if direct(v) {
			t.Errorf("%T: the compiled writer took a value the two steps must decide", v)
		}
	}
}

func TestGoJSONAllocations(t *testing.T) {
	page := make([]goJSONInner, 50)
	for i := range page {
		page[i] = goJSONInner{A: int8(i), B: uint16(i), F32: 0.5, S: "name", P: &goJSONInner{S: "inner"}}
	}
	buf := make([]byte, 0, 8<<10)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendValueJSON(buf[:0], &page); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per page, want 0", allocs)
	}
}

// FuzzGoJSON holds the compiled writers to the two steps on every value
// the typed decoder makes of the input, at several depths.
func FuzzGoJSON(f *testing.F) {
	for _, v := range goJSONSamples()[:4] {
		b, err := Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, v := range []any{[]any{1, "x"}, map[string]any{"next": map[string]any{"v": 1.5}}} {
		b, err := Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var rich goJSONRich
		if Unmarshal(b, &rich) == nil {
			checkGoJSON(t, rich, 0)
			checkGoJSON(t, &rich, directMaxDepth-2)
		}
		var tree goJSONTree
		if Unmarshal(b, &tree) == nil {
			checkGoJSON(t, tree, 0)
			checkGoJSON(t, tree, DefaultMaxDepth-3)
		}
		var m map[string][]*goJSONInner
		if Unmarshal(b, &m) == nil {
			checkGoJSON(t, m, 1)
		}
	})
}
