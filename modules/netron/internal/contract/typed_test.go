package contract

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// typedAgree checks the promise of Typed: a Go value it proves valid, the
// general validator accepts in its JSON form. It reports whether it proved.
func typedAgree(t testing.TB, doc string, p pair, tc *Typed, v any) bool {
	t.Helper()
	if !tc.Valid(v) {
		return false
	}
	j, err := protocol.ToJSON(v)
	if err != nil {
		t.Fatalf("schema %s: proved %#v valid, but it has no JSON form: %v", doc, v, err)
	}
	if vs := p.ref.Validate(j); vs != nil {
		t.Fatalf("schema %s: Typed proved %#v (%v) valid; the validator says %v", doc, v, j, vs)
	}
	return true
}

// randomUser varies every field over valid and invalid values.
func randomUser(r *rand.Rand) User {
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	u := User{
		ID:     int64(r.IntN(4)) - 1,
		Name:   pick("", "Ada", "héllo", string(make([]byte, 101)), "\xff"),
		Email:  pick("ada@example.com", "nope", "a..b@x.com", `"q"@x.com`, "x@[10.0.0.1]"),
		Age:    r.IntN(200) - 10,
		Score:  []float64{0, 99.5, 100.5, -1, math.NaN(), math.Inf(1)}[r.IntN(6)],
		Active: r.IntN(2) == 0,
		Role:   pick("admin", "member", "guest", "root", ""),
		Tags:   make([]string, r.IntN(24)),
		Address: Address{Street: pick("", "1 Main St", string(make([]byte, 201))),
			City: pick("", "London"), Zip: pick("12345", "1234", "abcde")},
	}
	if r.IntN(3) == 0 {
		u.Tags = nil
	}
	if r.IntN(2) == 0 {
		s := pick("ok", "far too long a nickname")
		u.Nick = &s
	}
	if r.IntN(2) == 0 {
		u.Avatar = make([]byte, r.IntN(8))
	}
	return u
}

func TestTypedDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type tcase struct {
		doc string
		typ reflect.Type
		gen func() any
	}
	cases := []tcase{
		{mustDerive[User](), reflect.TypeFor[User](), func() any { return randomUser(r) }},
		{mustDerive[[]User](), reflect.TypeFor[[]User](), func() any {
			if r.IntN(2) == 0 {
				return []User{sampleUser(), sampleUser()}
			}
			return []User{sampleUser(), randomUser(r)}
		}},
		{mustDerive[*Address](), reflect.TypeFor[*Address](), func() any {
			if r.IntN(3) == 0 {
				return (*Address)(nil)
			}
			u := randomUser(r)
			return &u.Address
		}},
		{mustDerive[[]byte](), reflect.TypeFor[[]byte](), func() any { return make([]byte, r.IntN(5)) }},
		{`{"$defs":{"b":{"maximum":200}},"type":"object","properties":{"data":{"type":"array","items":{"$ref":"#/$defs/b"}}}}`, reflect.TypeFor[[]byte](), func() any {
			b := make([]byte, r.IntN(3))
			for i := range b {
				b[i] = []byte{1, 250}[r.IntN(2)]
			}
			return b
		}},
		{mustDerive[time.Time](), reflect.TypeFor[time.Time](), func() any {
			return []time.Time{{}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}[r.IntN(4)]
		}},
		{`{"type":"integer","minimum":-3,"exclusiveMaximum":10,"multipleOf":3}`, reflect.TypeFor[int](), func() any { return r.IntN(30) - 10 }},
		{`{"type":"number","exclusiveMinimum":0.5,"maximum":2.5}`, reflect.TypeFor[float64](), func() any { return []float64{0.5, 0.75, 2.5, 3, math.NaN()}[r.IntN(5)] }},
		{`{"anyOf":[{"type":"string","maxLength":2},{"type":"null"}]}`, reflect.TypeFor[*string](), func() any {
			if r.IntN(3) == 0 {
				return (*string)(nil)
			}
			s := []string{"", "ab", "abc"}[r.IntN(3)]
			return &s
		}},
		{`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}`, reflect.TypeFor[struct {
			A int `json:"a"`
			B int `json:"b,omitempty"`
		}](), func() any {
			return struct {
				A int `json:"a"`
				B int `json:"b,omitempty"`
			}{A: r.IntN(3), B: r.IntN(2)}
		}},
		{`{"enum":["a","b",true]}`, reflect.TypeFor[string](), func() any { return []string{"a", "b", "c"}[r.IntN(3)] }},
	}
	for _, c := range cases {
		p := compileBoth(t, c.doc)
		tc := p.checker.ForType(c.typ)
		if tc == nil {
			t.Fatalf("schema %s: not compiled for %v", c.doc, c.typ)
		}
		proved := 0
		for range 3000 {
			if typedAgree(t, c.doc, p, tc, c.gen()) {
				proved++
			}
		}
		if proved == 0 {
			t.Errorf("schema %s: no value of %v proven valid: the test checks nothing", c.doc, c.typ)
		}
	}
}

func TestTypedProvesAndRefuses(t *testing.T) {
	p := compileBoth(t, mustDerive[User]())
	tc := p.checker.ForType(reflect.TypeFor[User]())
	u := sampleUser()
	if !typedAgree(t, "User", p, tc, u) {
		t.Fatal("the sample user is not proven valid")
	}
	if tc.Valid(&u) || tc.Valid(nil) || tc.Valid("x") {
		t.Fatal("a value of another type proven valid")
	}
	bad := u
	bad.Address.Zip = "1"
	if tc.Valid(bad) {
		t.Fatal("a zip off its pattern proven valid")
	}
	var boxed any = u
	if n := testing.AllocsPerRun(100, func() { tc.Valid(boxed) }); n != 0 && !raceEnabled {
		t.Errorf("Typed.Valid allocates %v times per user, want 0", n)
	}
	// Types it leaves to the encoded form.
	for _, typ := range []reflect.Type{reflect.TypeFor[map[string]int](), reflect.TypeFor[any](), reflect.TypeFor[protocol.Object]()} {
		c, err := Compile([]byte(`true`))
		if err != nil {
			t.Fatal(err)
		}
		if c.ForType(typ) != nil {
			t.Errorf("%v compiled", typ)
		}
	}
}

func BenchmarkTypedUser(b *testing.B) {
	c, err := Compile([]byte(mustDerive[User]()))
	if err != nil {
		b.Fatal(err)
	}
	tc := c.ForType(reflect.TypeFor[User]())
	var v any = sampleUser()
	b.ReportAllocs()
	for b.Loop() {
		if !tc.Valid(v) {
			b.Fatal("not proven")
		}
	}
}

type tree struct {
	Name  string `json:"name"`
	Left  *tree  `json:"left"`
	Right *tree  `json:"right"`
}

// TestTypedRecursive: a recursive type is left to the encoded form at
// once, not unrolled (two fields deep 32 levels would be 2^32 closures).
func TestTypedRecursive(t *testing.T) {
	c, err := Compile([]byte(`{"type":"object","properties":{"name":{"type":"string"},"left":{"$ref":"#"},"right":{"$ref":"#"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *Typed)
	go func() { done <- c.ForType(reflect.TypeFor[tree]()) }()
	select {
	case tc := <-done:
		if tc != nil {
			t.Fatal("a recursive type compiled")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ForType on a recursive type did not return in 5 s")
	}
}

type TypedInner struct {
	X int `json:"x"`
}

type typedOuter struct {
	*TypedInner
	Y string `json:"y"`
	Z int    `json:"z,omitempty"`
}

// TestTypedEmbedded: fields promoted through an embedded pointer, and
// omitted ones, are checked as the encoder writes them: behind a nil
// pointer or omitted, a field is absent.
func TestTypedEmbedded(t *testing.T) {
	doc := `{"type":"object","properties":{"x":{"type":"integer","maximum":1},"y":{"type":"string","minLength":1},` +
		`"z":{"type":"integer","minimum":5}},"required":["y"]}`
	docX := `{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}`
	p, px := compileBoth(t, doc), compileBoth(t, docX)
	tc, tcx := p.checker.ForType(reflect.TypeFor[typedOuter]()), px.checker.ForType(reflect.TypeFor[typedOuter]())
	if tc == nil || tcx == nil {
		t.Fatal("not compiled")
	}
	for _, c := range []struct {
		v        typedOuter
		valid    bool // against doc
		hasX     bool // against docX: x is written
		describe string
	}{
		{typedOuter{Y: "a"}, true, false, "nil embedded pointer"},
		{typedOuter{TypedInner: &TypedInner{X: 1}, Y: "a"}, true, true, "x within its maximum"},
		{typedOuter{TypedInner: &TypedInner{X: 2}, Y: "a"}, false, true, "x above its maximum"},
		{typedOuter{Y: ""}, false, false, "y too short"},
		{typedOuter{Y: "a", Z: 3}, false, false, "z written, below its minimum"},
		{typedOuter{Y: "a", Z: 0}, true, false, "z omitted"},
		{typedOuter{Y: "a", Z: 5}, true, false, "z written, valid"},
	} {
		if got := tc.Valid(c.v); got != c.valid {
			t.Errorf("%s: Valid %v, want %v", c.describe, got, c.valid)
		}
		typedAgree(t, doc, p, tc, c.v)
		if got := tcx.Valid(c.v); got != c.hasX {
			t.Errorf("%s: required x proven %v, want %v", c.describe, got, c.hasX)
		}
		typedAgree(t, docX, px, tcx, c.v)
	}
}
