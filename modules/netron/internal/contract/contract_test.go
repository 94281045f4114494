package contract

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/titanframework/titan/internal/schema"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// User is a realistic message: what the derived contracts look like.
type Address struct {
	Street string `json:"street" jsonschema:"minLength=1,maxLength=200"`
	City   string `json:"city" jsonschema:"minLength=1,maxLength=100"`
	Zip    string `json:"zip" jsonschema:"pattern=^[0-9]{5}$"`
}

type User struct {
	ID      int64    `json:"id" jsonschema:"minimum=1"`
	Name    string   `json:"name" jsonschema:"minLength=1,maxLength=100"`
	Email   string   `json:"email" jsonschema:"format=email"`
	Age     int      `json:"age" jsonschema:"minimum=0,maximum=150"`
	Score   float64  `json:"score" jsonschema:"minimum=0,maximum=100"`
	Active  bool     `json:"active"`
	Role    string   `json:"role" jsonschema:"enum=admin,enum=member,enum=guest"`
	Tags    []string `json:"tags" jsonschema:"maxItems=20"`
	Address Address  `json:"address"`
	Nick    *string  `json:"nick,omitempty" jsonschema:"maxLength=10"`
	Avatar  []byte   `json:"avatar,omitempty"`
}

func sampleUser() User {
	return User{
		ID: 42, Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 99.5,
		Active: true, Role: "admin", Tags: []string{"math", "engines", "poetry"},
		Address: Address{Street: "12 St James's Square", City: "London", Zip: "12345"},
	}
}

// schemas are the documents the differential tests compile: derived from
// Go types and written by hand, one or more per keyword the checker
// compiles, and some it leaves undecided.
var schemas = []string{
	mustDerive[User](),
	mustDerive[[]User](),
	mustDerive[[]byte](),
	mustDerive[map[string]int](),
	mustDerive[*Address](),
	mustDerive[time.Time](),
	`{"type":"string","minLength":2,"maxLength":5}`,
	`{"type":"string","pattern":"^a+b?$"}`,
	`{"type":"string","format":"email"}`,
	`{"type":"string","format":"uuid"}`,
	`{"type":"string","format":"date-time"}`,
	`{"type":"string","format":"date"}`,
	`{"type":"string","format":"time"}`,
	`{"type":"string","format":"ipv4"}`,
	`{"type":"string","format":"ipv6"}`,
	`{"type":"string","format":"hostname"}`,
	`{"type":"string","format":"uri"}`,
	`{"format":"unknown-format"}`,
	`{"format":"duration"}`,
	`{"type":"integer","minimum":-3,"exclusiveMaximum":10}`,
	`{"type":"number","exclusiveMinimum":0.5,"maximum":2.5}`,
	`{"type":"integer","multipleOf":3}`,
	`{"enum":["a","b",1,2.5,true,null]}`,
	`{"const":"x"}`,
	`{"const":"a","enum":["a","b"]}`,
	`{"enum":["a","b"],"const":"b"}`,
	`{"const":[1]}`,
	`{"type":["string","null"]}`,
	`{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}`,
	`{"type":"array","uniqueItems":true}`,
	`{"type":"array","uniqueItems":true,"items":{"type":"number","maximum":2}}`,
	`{"type":"number","multipleOf":0.5}`,
	`{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}],"items":false}`,
	`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a","b"],"additionalProperties":false}`,
	`{"type":"object","additionalProperties":{"type":"string"}}`,
	`{"type":"object","required":["type","data"]}`,
	`{"type":"object","properties":{"type":{"const":"Buffer"},"data":{"type":"array","maxItems":3,"items":{"type":"integer","maximum":200}}}}`,
	// Binary data against keys and items with applicators.
	`{"type":"object","properties":{"data":{"type":"array","items":{"allOf":[{"maximum":200}]}}}}`,
	`{"$defs":{"b":{"anyOf":[{"maximum":2},{"minimum":251}]}},"type":"object","properties":{"data":{"type":"array","items":{"$ref":"#/$defs/b"}}}}`,
	`{"type":"object","properties":{"type":{"anyOf":[{"const":"Buf"}]}}}`,
	`{"anyOf":[{"type":"string"},{"type":"integer","minimum":5}]}`,
	`{"allOf":[{"type":"integer"},{"maximum":5}]}`,
	`{"$defs":{"n":{"type":"integer","maximum":3}},"type":"array","items":{"$ref":"#/$defs/n"}}`,
	`{"$defs":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}},"additionalProperties":false}},"$ref":"#/$defs/t"}`,
	`{"$defs":{"a b":{"type":"string"},"a%20b":{"type":"integer"}},"$ref":"#/$defs/a%20b"}`, // the fragment is percent-encoded
	`{"anyOf":[{"$ref":"#"},{"type":"string"}]}`,                                            // a reference cycle in one branch
	`{"oneOf":[{"type":"string"},{"type":"integer"}]}`,
	`{"type":"object","patternProperties":{"^x":{"type":"string"}}}`,
	`{"not":{"type":"string"}}`,
	`true`,
	`false`,
	`{"type":"object","x-custom":1}`,
}

func mustDerive[T any]() string {
	b, err := schema.ReflectValuesJSON(reflect.TypeFor[T](), bufferSchema)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// bufferSchema is what netron derives for binary data, and for a
// time.Time (a date-time string, or null for the zero time).
func bufferSchema(t reflect.Type) *jsonschema.Schema {
	if t == timeType {
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", Format: "date-time"}, {Type: "null"}}}
	}
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return nil
	}
	return schema.BufferSchema()
}

type pair struct {
	checker *Checker
	ref     *schema.Validator
}

func compileBoth(t testing.TB, doc string) pair {
	t.Helper()
	c, err := Compile([]byte(doc))
	if err != nil {
		t.Fatalf("Compile(%s): %v", doc, err)
	}
	v, err := schema.Compile([]byte(doc))
	if err != nil {
		t.Fatalf("schema.Compile(%s): %v", doc, err)
	}
	return pair{c, v}
}

// agree checks the one promise of the checker: a value it proves valid,
// the general validator accepts. It reports whether it proved the value.
func (p pair) agree(t testing.TB, doc string, raw []byte) bool {
	t.Helper()
	proven := p.checker.Valid(raw)
	if !proven {
		return false
	}
	g, err := protocol.DecodeValue(raw, protocol.Limits{})
	if err != nil {
		t.Fatalf("schema %s: proved % x valid, but it does not decode: %v", doc, raw, err)
	}
	j, err := protocol.ToJSON(g)
	if err != nil {
		t.Fatalf("schema %s: proved % x valid, but it has no JSON form: %v", doc, raw, err)
	}
	if vs := p.ref.Validate(j); vs != nil {
		t.Fatalf("schema %s: the checker proved %v (% x) valid; the validator says %v", doc, j, raw, vs)
	}
	return true
}

func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := protocol.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// values is a corpus of values of every JSON type and many edges.
func values(t testing.TB) [][]byte {
	u := sampleUser()
	bad := u
	bad.Email = "not an email"
	nick := "ok"
	withNick := u
	withNick.Nick = &nick
	withNick.Avatar = []byte{1, 2, 3}
	vs := []any{
		nil, protocol.Undefined{}, true, false, 0, 1, -1, 3, 5, 9, 10, 2.5, 0.5, 1.5, -3, -4, 1e300, math.NaN(), math.Inf(1),
		int64(1) << 60, uint64(math.MaxUint64), 255, 256, 200, 201,
		"", "a", "ab", "aab", "abc", "abcdef", "héllo", "ada@example.com", "a.b@c-d.example", `"q"@x.com`, "a..b@x.com",
		"123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-42661417400",
		"2026-12-03T23:59:59Z", "2026-02-29T00:00:00Z", "2024-02-29T10:00:00.123+05:30", "2026-12-03T23:59:60Z",
		"2026-12-03", "2026-13-01", "23:59:59Z", "12:00:00+25:00", "10.0.0.1", "010.0.0.1", "256.1.1.1", "::1", "fe80::1%eth0",
		"example.com", "-bad.com", "https://example.com/x?y=1", "relative/path", "http://[::1]:80/",
		"x", "Buffer", "admin", "guest", "root",
		[]byte{}, []byte{1, 2, 3}, []byte{1, 2, 3, 4}, []byte{250},
		[]any{}, []any{1}, []any{1, 2, 3}, []any{1, 2, 3, 4}, []any{"a", true}, []any{"a", true, 1}, []any{"a", "a"}, []any{1, 1.0}, []any{1, "1"},
		[]any{nil, nil}, []any{[]any{1}, []any{1}},
		math.Copysign(0, -1), float32(0.1), []any{0, math.Copysign(0, -1)}, []any{math.NaN(), nil}, []any{0.1, float32(0.1)},
		protocol.Object{}, protocol.Object{{Key: "a", Value: 1}}, protocol.Object{{Key: "a", Value: 1}, {Key: "b", Value: 2}},
		protocol.Object{{Key: "a", Value: 1}, {Key: "b", Value: protocol.Undefined{}}},
		protocol.Object{{Key: "a", Value: 1}, {Key: "b", Value: 2}, {Key: "c", Value: 3}},
		protocol.Object{{Key: "type", Value: "Buffer"}, {Key: "data", Value: []any{1, 2}}},
		protocol.Object{{Key: "kids", Value: []any{protocol.Object{{Key: "kids", Value: []any{}}}}}},
		protocol.Object{{Key: "kids", Value: []any{protocol.Object{{Key: "x", Value: 1}}}}},
		map[string]int{"a": 1}, map[string]string{"a": "b"},
		u, bad, withNick, []User{u, u}, []User{u, bad}, &u.Address, Address{},
		time.Date(2026, 12, 3, 1, 2, 3, 0, time.UTC), time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC),
		protocol.Map{}, protocol.Set{}, protocol.Long{Bits: 5},
	}
	out := make([][]byte, 0, len(vs)+4)
	for _, v := range vs {
		out = append(out, enc(t, v))
	}
	// By hand: duplicate keys (the last wins on decoding), a float64
	// carrying an integer, a non-string key, invalid UTF-8.
	out = append(out,
		[]byte{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0xd4, 0x00, 0x00},
		[]byte{0x82, 0xa1, 'a', 0xa1, 'x', 0xa1, 'a', 0x01},
		[]byte{0xcb, 0x40, 0x08, 0, 0, 0, 0, 0, 0},
		[]byte{0x81, 0x01, 0x02},
		[]byte{0xa2, 0xff, 0xfe},
	)
	return out
}

func TestDifferential(t *testing.T) {
	vals := values(t)
	for _, doc := range schemas {
		p := compileBoth(t, doc)
		for _, raw := range vals {
			p.agree(t, doc, raw)
		}
	}
}

// TestRefCycles: a schema that refers back to itself for the same value
// (through $ref, allOf and anyOf, without descending into an item or a
// property) is a reference cycle, which the validator refuses. The checker
// must not follow it without end: ForType overflowed the stack on a
// pointer type, and Valid ran for ever on an anyOf of two such references.
func TestRefCycles(t *testing.T) {
	vals := values(t)
	for _, doc := range []string{
		`{"$ref":"#"}`,
		`{"anyOf":[{"$ref":"#"},{"$ref":"#"}]}`,
		`{"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"anyOf":[{"$ref":"#/$defs/a"},{"$ref":"#/$defs/a"}]}},"$ref":"#/$defs/a"}`,
	} {
		p := compileBoth(t, doc)
		type result struct {
			proven []bool
			typed  []*Typed
		}
		done := make(chan result, 1)
		go func() {
			var r result
			for _, raw := range vals {
				r.proven = append(r.proven, p.checker.Valid(raw))
			}
			for _, typ := range []reflect.Type{reflect.TypeFor[*int](), reflect.TypeFor[int](), reflect.TypeFor[*Address]()} {
				r.typed = append(r.typed, p.checker.ForType(typ))
			}
			done <- r
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("schema %s: the checker did not return in 30 s", doc)
		}
		for i, proven := range r.proven {
			if proven {
				p.agree(t, doc, vals[i])
			}
		}
		for i, tc := range r.typed {
			if tc != nil && tc.Valid([]any{(*int)(nil), 0, (*Address)(nil)}[i]) {
				t.Errorf("schema %s: Typed proved a value valid", doc)
			}
		}
	}
}

// TestProves holds the checker to deciding what it claims to decide: the
// values real services exchange, against their derived contracts.
func TestProves(t *testing.T) {
	nick := "ok"
	u := sampleUser()
	u.Nick = &nick
	u.Avatar = make([]byte, 4096)
	cases := []struct {
		doc string
		v   any
	}{
		{mustDerive[User](), sampleUser()},
		{mustDerive[User](), u},
		{mustDerive[[]User](), []User{sampleUser(), u}},
		{mustDerive[[]byte](), make([]byte, 4096)},
		{mustDerive[map[string]int](), map[string]int{"a": 1, "b": 2}},
		{mustDerive[*Address](), nil},
		{mustDerive[time.Time](), time.Date(2026, 12, 3, 1, 2, 3, 0, time.UTC)},
		{`{"type":"string","format":"email"}`, "ada@example.com"},
		{`{"type":"string","format":"uuid"}`, "123e4567-e89b-12d3-a456-426614174000"},
		{`{"type":"string","format":"date-time"}`, "2024-02-29T10:00:00.123+05:30"},
		{`{"type":"string","format":"ipv4"}`, "10.0.0.1"},
		{`{"type":"string","format":"ipv6"}`, "::1"},
		{`{"type":"string","format":"hostname"}`, "example.com"},
		{`{"type":"string","format":"uri"}`, "https://example.com/x"},
		{`{"type":"array","uniqueItems":true}`, []any{1, "1", true, nil}},
		{`{"$defs":{"t":{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#/$defs/t"}}},"additionalProperties":false}},"$ref":"#/$defs/t"}`,
			protocol.Object{{Key: "kids", Value: []any{protocol.Object{{Key: "kids", Value: []any{}}}}}}},
		{`{"anyOf":[{"type":"string"},{"type":"integer","minimum":5}]}`, 7},
	}
	for _, c := range cases {
		p := compileBoth(t, c.doc)
		raw := enc(t, c.v)
		if !p.agree(t, c.doc, raw) {
			t.Errorf("schema %s: the checker does not prove %#v valid", c.doc, c.v)
		}
	}
}

// TestRefuses: the checker must not prove invalid values, whatever the
// reason; these are the violations users make.
func TestRefuses(t *testing.T) {
	long := sampleUser()
	long.Name = string(make([]byte, 101))
	badRole := sampleUser()
	badRole.Role = "root"
	badZip := sampleUser()
	badZip.Address.Zip = "1234"
	c, err := Compile([]byte(mustDerive[User]()))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"name too long": long, "role outside the enum": badRole, "zip off its pattern": badZip,
		"unknown key":  protocol.Object{{Key: "idd", Value: 1}},
		"missing keys": protocol.Object{{Key: "id", Value: 1}},
		"null":         nil,
	} {
		if c.Valid(enc(t, v)) {
			t.Errorf("%s: proved valid", name)
		}
	}
}

// TestNoAllocations: proving a valid realistic message allocates nothing.
func TestNoAllocations(t *testing.T) {
	c, err := Compile([]byte(mustDerive[[]User]()))
	if err != nil {
		t.Fatal(err)
	}
	page := make([]User, 50)
	for i := range page {
		page[i] = sampleUser()
	}
	raw := enc(t, page)
	if !c.Valid(raw) {
		t.Fatal("the page is not proven valid")
	}
	if n := testing.AllocsPerRun(100, func() { c.Valid(raw) }); n != 0 && !raceEnabled {
		t.Errorf("Valid allocates %v times per page, want 0", n)
	}
}

// randomValue builds a random Netron value of a shape close to the
// schemas' (keys and strings from a small alphabet, so that matches
// happen).
func randomValue(r *rand.Rand, depth int) any {
	keys := []string{"a", "b", "c", "type", "data", "id", "name", "email", "tags", "kids", "street", "city", "zip", "nick", "avatar", "role", "age", "score", "active", "address"}
	strs := []string{"", "a", "ab", "aab", "abcdef", "Buffer", "admin", "x", "ada@example.com", "12345", "2026-12-03T23:59:59Z", "::1", "10.0.0.1", "héllo"}
	k := r.IntN(12)
	if depth > 3 && k >= 8 {
		k = r.IntN(8)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.IntN(300) - 20
	case 3:
		return []float64{0.5, 1.5, 2.5, 3, -0.25, 1e300, math.NaN()}[r.IntN(7)]
	case 4, 5:
		return strs[r.IntN(len(strs))]
	case 6:
		return make([]byte, r.IntN(6))
	case 7:
		return protocol.Undefined{}
	case 8, 9:
		n := r.IntN(5)
		a := make([]any, n)
		for i := range a {
			a[i] = randomValue(r, depth+1)
		}
		return a
	default:
		n := r.IntN(6)
		o := protocol.Object{}
		for range n {
			o = append(o, protocol.Field{Key: keys[r.IntN(len(keys))], Value: randomValue(r, depth+1)})
		}
		return o
	}
}

func TestDifferentialRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pairs := make([]pair, len(schemas))
	for i, doc := range schemas {
		pairs[i] = compileBoth(t, doc)
	}
	proved := 0
	for range 20000 {
		raw := enc(t, randomValue(r, 0))
		for i, p := range pairs {
			if p.agree(t, schemas[i], raw) {
				proved++
			}
		}
	}
	if proved == 0 {
		t.Fatal("no random value was proven valid: the test checks nothing")
	}
	t.Logf("%d (value, schema) pairs proven valid", proved)
}

// FuzzDifferential: any bytes, against every schema; what the checker
// proves, the general validator must accept.
func FuzzDifferential(f *testing.F) {
	for _, v := range values(f) {
		f.Add(v)
	}
	pairs := make([]pair, len(schemas))
	for i, doc := range schemas {
		pairs[i] = compileBoth(f, doc)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for i, p := range pairs {
			p.agree(t, schemas[i], raw)
		}
	})
}

func BenchmarkValidUser(b *testing.B) {
	c, err := Compile([]byte(mustDerive[User]()))
	if err != nil {
		b.Fatal(err)
	}
	raw := enc(b, sampleUser())
	b.ReportAllocs()
	for b.Loop() {
		if !c.Valid(raw) {
			b.Fatal("not proven")
		}
	}
}

func BenchmarkGeneralValidatorUser(b *testing.B) {
	v, err := schema.Compile([]byte(mustDerive[User]()))
	if err != nil {
		b.Fatal(err)
	}
	raw := enc(b, sampleUser())
	b.ReportAllocs()
	for b.Loop() {
		g, err := protocol.DecodeValue(raw, protocol.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		j, err := protocol.ToJSON(g)
		if err != nil {
			b.Fatal(err)
		}
		if vs := v.Validate(j); vs != nil {
			b.Fatal(vs)
		}
	}
}

// BenchmarkEncodeUser is what checking a result adds before the walk: its
// encoding into a reused buffer.
func BenchmarkEncodeUser(b *testing.B) {
	u := sampleUser()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = protocol.AppendValue(buf[:0], u); err != nil {
			b.Fatal(err)
		}
	}
}
