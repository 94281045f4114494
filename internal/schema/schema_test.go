package schema_test

import (
	"encoding/json"
	"maps"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/titanframework/titan/internal/schema"
)

type Inner struct {
	Port int `json:"port" jsonschema:"minimum=1,maximum=65535"`
}

type Outer struct {
	Name    string        `json:"name" jsonschema:"minLength=1"`
	Timeout time.Duration `json:"timeout"`
	Inner   Inner         `json:"inner"`
	Tags    []string      `json:"tags,omitempty"`
}

func compile(t *testing.T) *schema.Validator {
	t.Helper()
	doc, err := schema.ReflectJSON(reflect.TypeFor[Outer]())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), `"$ref"`) {
		t.Fatalf("schema has references: %s", doc)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDurationIsString(t *testing.T) {
	v := compile(t)
	for _, tt := range []struct {
		d  any
		ok bool
	}{{"5s", true}, {"1h30m", true}, {"0", true}, {"-1.5ms", true}, {"soon", false}, {int64(5000000000), false}} {
		val, err := schema.Normalize(map[string]any{"name": "x", "timeout": tt.d, "inner": map[string]any{"port": 1}})
		if err != nil {
			t.Fatal(err)
		}
		got := v.Validate(val)
		if (len(got) == 0) != tt.ok {
			t.Errorf("timeout %v: violations %v, want ok=%v", tt.d, got, tt.ok)
		}
	}
}

func TestViolationsNameEachPath(t *testing.T) {
	v := compile(t)
	var val any
	if err := json.Unmarshal([]byte(`{"name":"","inner":{"port":70000},"extra":1}`), &val); err != nil {
		t.Fatal(err)
	}
	val, _ = schema.Normalize(val)
	var paths []string
	for _, viol := range v.Validate(val) {
		paths = append(paths, viol.DottedPath())
		if viol.Reason == "" {
			t.Errorf("%s: empty reason", viol.DottedPath())
		}
	}
	slices.Sort(paths)
	want := []string{"extra", "inner.port", "name", "timeout"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %v, want %v", paths, want)
	}
}

func TestPointer(t *testing.T) {
	got := schema.Violation{Path: []string{"a/b", "c~d", "0"}}.Pointer()
	if got != "/a~1b/c~0d/0" {
		t.Fatalf("pointer = %q", got)
	}
}

func TestCompileRejectsBadDocuments(t *testing.T) {
	if _, err := schema.Compile([]byte(`{`)); err == nil {
		t.Fatal("invalid JSON accepted")
	}
	if _, err := schema.Compile([]byte(`{"type": 12}`)); err == nil {
		t.Fatal("invalid schema accepted")
	}
}

type Leaf struct {
	N int `json:"n" jsonschema:"minimum=1"`
}

type Embedded struct {
	E *Leaf `json:"e"`
}

type Branch struct {
	Leaf *Leaf `json:"leaf"`
}

type Tree struct {
	Embedded
	Left   *Leaf            `json:"left"`
	Tagged *Leaf            `json:"tagged" jsonschema:"nullable"`
	Leaves []*Leaf          `json:"leaves"`
	ByName map[string]*Leaf `json:"byName"`
	Kids   []Branch         `json:"kids"`
	Plain  Leaf             `json:"plain"`
	Next   *Branch          `json:"next"`
}

// Go encodes a nil pointer as null: a pointer field, element, embedded
// field or the value itself may be null, and what it points to is still
// checked; other values may not be null.
func TestPointersMayBeNull(t *testing.T) {
	for _, tt := range []struct {
		name string
		typ  reflect.Type
		doc  string
		ok   bool
	}{
		{"all null", reflect.TypeFor[Tree](), `{"e":null,"left":null,"tagged":null,"leaves":[null],"byName":{"a":null},"kids":[],"plain":{"n":1},"next":null}`, true},
		{"values", reflect.TypeFor[Tree](), `{"e":{"n":1},"left":{"n":2},"tagged":{"n":3},"leaves":[{"n":4}],"byName":{"a":{"n":5}},"kids":[{"leaf":null},{"leaf":{"n":6}}],"plain":{"n":1},"next":{"leaf":null}}`, true},
		{"bad pointee", reflect.TypeFor[Tree](), `{"e":null,"left":{"n":0},"tagged":null,"leaves":[],"byName":{},"kids":[],"plain":{"n":1},"next":null}`, false},
		{"bad element", reflect.TypeFor[Tree](), `{"e":null,"left":null,"tagged":null,"leaves":[{"n":0}],"byName":{},"kids":[],"plain":{"n":1},"next":null}`, false},
		{"bad nested", reflect.TypeFor[Tree](), `{"e":null,"left":null,"tagged":null,"leaves":[],"byName":{},"kids":[{"leaf":{"n":0}}],"plain":{"n":1},"next":null}`, false},
		{"bad embedded", reflect.TypeFor[Tree](), `{"e":{"n":0},"left":null,"tagged":null,"leaves":[],"byName":{},"kids":[],"plain":{"n":1},"next":null}`, false},
		{"null value", reflect.TypeFor[Tree](), `{"e":null,"left":null,"tagged":null,"leaves":[],"byName":{},"kids":[],"plain":null,"next":null}`, false},
		{"null slice element of values", reflect.TypeFor[[]Leaf](), `[null]`, false},
		{"root pointer null", reflect.TypeFor[*Leaf](), `null`, true},
		{"root pointer value", reflect.TypeFor[*Leaf](), `{"n":0}`, false},
		{"root value null", reflect.TypeFor[Leaf](), `null`, false},
	} {
		doc, err := json.Marshal(schema.ReflectValues(tt.typ, nil))
		if err != nil {
			t.Fatal(err)
		}
		v, err := schema.Compile(doc)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tt.name, err, doc)
		}
		var val any
		if err := json.Unmarshal([]byte(tt.doc), &val); err != nil {
			t.Fatal(err)
		}
		val, _ = schema.Normalize(val)
		got := v.Validate(val)
		if (len(got) == 0) != tt.ok {
			t.Errorf("%s: violations %v, want ok=%v\nschema %s", tt.name, got, tt.ok, doc)
		}
	}
}

type Node struct {
	Name     string  `json:"name"`
	Children []*Node `json:"children"`
}

type Holder struct {
	Root Node `json:"root"`
}

// A type that contains itself has no derived schema: a clear error, not
// a reflector that recurses until the stack overflows.
func TestRecursiveTypesAreRefused(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[Node](), reflect.TypeFor[*Holder](), reflect.TypeFor[[]Holder](), reflect.TypeFor[map[string]Holder]()} {
		err := schema.CheckType(typ)
		if err == nil || !strings.Contains(err.Error(), "Node contains itself (at ") || !strings.Contains(err.Error(), ".children[])") {
			t.Fatalf("%v: %v, want the cycle named", typ, err)
		}
		if _, err := schema.ReflectJSON(typ); err == nil {
			t.Fatalf("%v: ReflectJSON gave a schema", typ)
		}
	}
	if err := schema.CheckType(reflect.TypeFor[Tree]()); err != nil {
		t.Fatalf("a type that repeats types without containing itself: %v", err)
	}
}

type withFunc struct {
	Name    string     `json:"name"`
	OnClose func()     `json:"onClose"`
	Skipped chan int   `json:"-"`
	Z       complex128 `json:"-"`
}

// Types with no JSON form (channels, funcs, complex numbers, unsafe
// pointers) are refused with an error naming where they are, instead of
// the reflector's panic.
func TestTypesWithoutJSONForm(t *testing.T) {
	for typ, want := range map[reflect.Type]string{
		reflect.TypeFor[chan int]():                         "chan int has no JSON form: a chan cannot cross the wire",
		reflect.TypeFor[func(yield func(int) bool)]():       "has no JSON form: a func cannot cross the wire",
		reflect.TypeFor[withFunc]():                         "func() has no JSON form (at .onClose): a func",
		reflect.TypeFor[[]complex64]():                      "complex64 has no JSON form (at []): a complex64",
		reflect.TypeFor[map[string]*struct{ C chan int }](): "(at [].C)",
	} {
		err := schema.CheckType(typ)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want it refused with %q", typ, err, want)
		}
		if _, err := schema.ReflectValuesJSON(typ, nil); err == nil {
			t.Errorf("%v: ReflectValuesJSON gave a schema", typ)
		}
	}
	if err := schema.CheckType(reflect.TypeFor[struct {
		A chan int `json:"-"`
		B string   `json:"b"`
	}]()); err != nil {
		t.Errorf("a channel the JSON form leaves out: %v", err)
	}
}

type (
	SelfMap   map[string]SelfMap
	SelfSlice []SelfSlice
	SelfEmbed struct {
		*SelfEmbed
		X int `json:"x"`
	}
)

// Recursion through maps, slices and embedding is found too, without the
// check itself overflowing the stack.
func TestRecursionOfOtherKinds(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[SelfMap](), reflect.TypeFor[SelfSlice](), reflect.TypeFor[SelfEmbed]()} {
		if err := schema.CheckType(typ); err == nil || !strings.Contains(err.Error(), "contains itself") {
			t.Fatalf("%v: %v, want it refused", typ, err)
		}
	}
}

// Own is a recursive type that gives its own schema: the reflector does
// not look inside it, so it is fine, and its schema is left as it is.
type Own struct {
	Next *Own `json:"next"`
}

var ownSchema = &jsonschema.Schema{Type: "object", Properties: jsonschema.NewProperties()}

func init() { ownSchema.Properties.Set("next", &jsonschema.Schema{Type: "object"}) }

func (Own) JSONSchema() *jsonschema.Schema { return ownSchema }

type Odd struct {
	Extra  map[string]string `json:",inline"` // not a struct: dropped, as the reflector drops it
	ByID   map[int]*Leaf     `json:"byId"`
	Shadow                   // its "n" is replaced by the field below
	N      string            `json:"n"`
	Own    Own               `json:"own"`
}

type Shadow struct {
	N *int `json:"n"`
}

func TestValuesSchemaEdgeCases(t *testing.T) {
	typ := reflect.TypeFor[Odd]()
	if err := schema.CheckType(typ); err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(schema.ReflectValues(typ, nil))
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for _, tt := range []struct {
		doc string
		ok  bool
	}{
		{`{"byId":{"1":null,"2":{"n":1}},"n":"x","own":{"next":{}}}`, true},
		{`{"byId":{"abc":null},"n":"x","own":{"next":{}}}`, false}, // keys of a map[int] are integers
		{`{"byId":{},"n":null,"own":{"next":{}}}`, false},          // n is the string field, not the *int
		{`{"byId":{},"n":"x","own":{"next":null}}`, false},         // Own's schema is its own
	} {
		var val any
		if err := json.Unmarshal([]byte(tt.doc), &val); err != nil {
			t.Fatal(err)
		}
		val, _ = schema.Normalize(val)
		if got := v.Validate(val); (len(got) == 0) != tt.ok {
			t.Errorf("%s: violations %v, want ok=%v\nschema %s", tt.doc, got, tt.ok, doc)
		}
	}
	if p, _ := ownSchema.Properties.Get("next"); p.Type != "object" || len(p.AnyOf) > 0 {
		t.Fatalf("a type's own schema was changed: next = %+v", p)
	}
}

// A map keyed by signed integers may have negative keys: Go writes
// map[int]string{-1: "a"} as {"-1": "a"}, which its schema must accept.
// Its schema refuses the keys Netron's decoder refuses: "05" and "-0",
// which would be read as another key's number.
func TestNegativeMapKeys(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[map[int]string](), reflect.TypeFor[map[int8]*string](), reflect.TypeFor[struct {
		M map[int64]string `json:"m"`
	}]()} {
		doc, err := schema.ReflectValuesJSON(typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := schema.Compile(doc)
		if err != nil {
			t.Fatalf("%v: %v\n%s", typ, err, doc)
		}
		for m, ok := range map[string]bool{`{"-1":"a","0":"b","12":"c"}`: true, `{"x":"a"}`: false, `{"-":"a"}`: false, `{"1-":"a"}`: false,
			`{"05":"a"}`: false, `{"-0":"a"}`: false, `{"-05":"a"}`: false} { // what Netron's decoder refuses
			doc := m
			if typ.Kind() == reflect.Struct {
				doc = `{"m":` + m + `}`
			}
			var val any
			if err := json.Unmarshal([]byte(doc), &val); err != nil {
				t.Fatal(err)
			}
			val, _ = schema.Normalize(val)
			if vs := v.Validate(val); (len(vs) == 0) != ok {
				t.Errorf("%v: %s: violations %v, want ok=%v", typ, doc, vs, ok)
			}
		}
	}
}

// Reflect (configuration sections) keeps a pointer field's schema as the
// pointed-to type's: the configuration loader reads its type and
// properties to convert environment values.
func TestReflectKeepsPointerFieldsPlain(t *testing.T) {
	type section struct {
		Port *int `json:"port"`
	}
	s := schema.Reflect(reflect.TypeFor[section]())
	p, _ := s.Properties.Get("port")
	if p.Type != "integer" {
		t.Fatalf("port = %+v, want type integer", p)
	}
}

type Contact struct {
	Email   string    `json:"email" jsonschema:"format=email"`
	ID      string    `json:"id" jsonschema:"format=uuid"`
	At      time.Time `json:"at"`
	Home    string    `json:"home" jsonschema:"format=uri"`
	V4      string    `json:"v4" jsonschema:"format=ipv4"`
	V6      string    `json:"v6" jsonschema:"format=ipv6"`
	Host    string    `json:"host" jsonschema:"format=hostname"`
	Addr    net.IP    `json:"addr"`
	Unknown string    `json:"unknown" jsonschema:"format=x-not-a-format"`
}

// Formats are asserted, not only annotated: a value that does not match
// its field's format is refused, naming the field.
func TestFormatsAreAsserted(t *testing.T) {
	doc, err := schema.ReflectJSON(reflect.TypeFor[Contact]())
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{
		"email": "ada@example.com", "id": "0190f5e4-8a7b-7c3d-9e2f-0123456789ab", "at": "2024-05-01T12:30:00.000Z",
		"home": "https://example.com/a", "v4": "192.0.2.1", "v6": "2001:db8::1", "host": "api.example.com",
		"addr": "2001:db8::2", "unknown": "anything",
	}
	check := func(doc map[string]any) []schema.Violation {
		t.Helper()
		val, err := schema.Normalize(doc)
		if err != nil {
			t.Fatal(err)
		}
		return v.Validate(val)
	}
	if vs := check(good); vs != nil {
		t.Fatalf("valid values refused: %v", vs)
	}
	for key, bad := range map[string]string{
		"email": "not-an-email", "id": "not-a-uuid", "at": "yesterday", "home": "not a uri",
		"v4": "300.1.1.1", "v6": "2001:db8::g", "host": "-bad-.example", "addr": "999.1.1.1",
	} {
		doc := maps.Clone(good)
		doc[key] = bad
		vs := check(doc)
		if len(vs) == 0 {
			t.Errorf("%s=%q accepted", key, bad)
			continue
		}
		for _, viol := range vs {
			if viol.DottedPath() != key {
				t.Errorf("%s=%q: violation at %q (%s), want at %q", key, bad, viol.DottedPath(), viol.Reason, key)
			}
		}
	}
	doc2 := maps.Clone(good)
	doc2["email"] = "not-an-email"
	vs := check(doc2)
	if len(vs) != 1 || vs[0].Reason != `want an email address, got "not-an-email" (missing @)` {
		t.Fatalf("violations = %v", vs)
	}
}

// Reasons say what was wanted, then what was found, in plain words.
func TestReasonsInPlainWords(t *testing.T) {
	type Plain struct {
		N    int           `json:"n" jsonschema:"minimum=1,maximum=10"`
		Name string        `json:"name" jsonschema:"minLength=2"`
		Tags []string      `json:"tags" jsonschema:"maxItems=1"`
		R    float64       `json:"r,omitempty" jsonschema:"exclusiveMinimum=0,exclusiveMaximum=1"`
		Code string        `json:"code,omitempty" jsonschema:"maxLength=1"`
		Ids  []int         `json:"ids,omitempty" jsonschema:"minItems=2"`
		Mode string        `json:"mode,omitempty" jsonschema:"enum=fast,enum=safe"`
		Kind string        `json:"kind,omitempty" jsonschema:"enum=debug,enum=info,enum=warn"`
		Wait time.Duration `json:"wait,omitempty"`
	}
	doc, err := schema.ReflectJSON(reflect.TypeFor[Plain]())
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		doc, path, reason string
	}{
		{`{"n":"x","name":"ab","tags":[]}`, "n", "want an integer, got a string"},
		{`{"n":0,"name":"ab","tags":[]}`, "n", "want at least 1, got 0"},
		{`{"n":11,"name":"ab","tags":[]}`, "n", "want at most 10, got 11"},
		{`{"n":1.5,"name":"ab","tags":[]}`, "n", "want an integer, got a number"},
		{`{"n":1,"name":"a","tags":[]}`, "name", "want at least 2 characters, got 1"},
		{`{"n":1,"name":"ab","tags":["a","b"]}`, "tags", "want at most 1 item, got 2"},
		{`{"n":1,"name":null,"tags":[]}`, "name", "want a string, got null"},
		{`{"n":1,"name":"ab","tags":[],"r":0}`, "r", "want more than 0, got 0"},
		{`{"n":1,"name":"ab","tags":[],"r":1.5}`, "r", "want less than 1, got 1.5"},
		{`{"n":1,"name":"ab","tags":[],"code":"ab"}`, "code", "want at most 1 character, got 2"},
		{`{"n":1,"name":"ab","tags":[],"ids":[1]}`, "ids", "want at least 2 items, got 1"},
		{`{"n":1,"name":"ab","tags":[],"mode":"slow"}`, "mode", `want "fast" or "safe", got "slow"`},
		{`{"n":1,"name":"ab","tags":[],"kind":"verbose"}`, "kind", `want one of "debug", "info" or "warn", got "verbose"`},
		{`{"n":1,"name":"ab","tags":[],"wait":"5 parsecs"}`, "wait", `want a duration such as 500ms, 5s or 1h30m, got "5 parsecs"`},
	} {
		var val any
		if err := json.Unmarshal([]byte(tt.doc), &val); err != nil {
			t.Fatal(err)
		}
		val, _ = schema.Normalize(val)
		vs := v.Validate(val)
		if len(vs) != 1 || vs[0].DottedPath() != tt.path || vs[0].Reason != tt.reason {
			t.Errorf("%s: violations %v, want %s: %s", tt.doc, vs, tt.path, tt.reason)
		}
	}
}

// A place a false schema closes is "not allowed here".
func TestFalseSchemaReason(t *testing.T) {
	v, err := schema.Compile([]byte(`{"type":"array","prefixItems":[{"type":"number"}],"items":false}`))
	if err != nil {
		t.Fatal(err)
	}
	vs := v.Validate([]any{json.Number("1"), "extra"})
	if len(vs) != 1 || vs[0].Pointer() != "/1" || vs[0].Reason != "not allowed here" {
		t.Fatalf("violations %v", vs)
	}
}

// Opt has nullable fields of every kind: a number, a string, a struct and
// a list of struct pointers.
type Opt struct {
	P    *int    `json:"p" jsonschema:"minimum=1"`
	S    *string `json:"s" jsonschema:"minLength=2"`
	L    *Leaf   `json:"l"`
	Tagd *Leaf   `json:"tagd" jsonschema:"nullable"`
	Ls   []*Leaf `json:"ls"`
}

// A value of a field that may be null breaks the contract once: what the
// value itself breaks, without "want null" beside it; a value of another
// type says that null is allowed too.
func TestNullableViolationsNameTheValueOnce(t *testing.T) {
	doc, err := json.Marshal(schema.ReflectValues(reflect.TypeFor[Opt](), nil))
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		doc  string
		want []string // pointer: reason
	}{
		{`{"p":0,"s":null,"l":null,"tagd":null,"ls":[]}`, []string{"/p: want at least 1, got 0"}},
		{`{"p":null,"s":"x","l":null,"tagd":null,"ls":[]}`, []string{"/s: want at least 2 characters, got 1"}},
		{`{"p":null,"s":null,"l":{"n":0},"tagd":null,"ls":[]}`, []string{"/l/n: want at least 1, got 0"}},
		{`{"p":null,"s":null,"l":null,"tagd":{"n":0},"ls":[]}`, []string{"/tagd/n: want at least 1, got 0"}},
		{`{"p":null,"s":null,"l":null,"tagd":null,"ls":[{"n":0},null,{"n":-1}]}`, []string{"/ls/0/n: want at least 1, got 0", "/ls/2/n: want at least 1, got -1"}},
		{`{"p":0,"s":null,"l":{},"tagd":null,"ls":[]}`, []string{"/p: want at least 1, got 0", "/l/n: required, but missing"}},
		{`{"p":"x","s":null,"l":null,"tagd":null,"ls":[]}`, []string{"/p: want an integer or null, got a string"}},
		{`{"p":null,"s":null,"l":7,"tagd":null,"ls":[]}`, []string{"/l: want an object or null, got a number"}},
	} {
		var val any
		if err := json.Unmarshal([]byte(tt.doc), &val); err != nil {
			t.Fatal(err)
		}
		val, _ = schema.Normalize(val)
		var got []string
		for _, vi := range v.Validate(val) {
			got = append(got, vi.Pointer()+": "+vi.Reason)
		}
		slices.Sort(got)
		slices.Sort(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: violations %q, want %q", tt.doc, got, tt.want)
		}
	}
}
