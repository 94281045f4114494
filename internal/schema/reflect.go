package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// DurationPattern is the regular expression a duration string must match:
// Go's time.ParseDuration syntax.
const DurationPattern = `^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`

var (
	durationType = reflect.TypeFor[time.Duration]()
	ipType       = reflect.TypeFor[net.IP]()
)

// Mapper gives the schema of the values of a type (not a pointer type)
// whose JSON form is not what its Go structure suggests, or nil.
type Mapper func(reflect.Type) *jsonschema.Schema

func newReflector(m Mapper) *jsonschema.Reflector {
	return &jsonschema.Reflector{
		Anonymous:      true,
		DoNotReference: true,
		ExpandedStruct: true,
		// The reflector keys the types it has seen by name: two types of
		// one name in different packages (security.Config holding
		// jwtauth.Config and certs.Config) would share one schema.
		Namer: func(t reflect.Type) string {
			if t.PkgPath() == "" {
				return t.Name()
			}
			return strings.NewReplacer("/", ".", "-", "_").Replace(t.PkgPath()) + "." + t.Name()
		},
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == durationType {
				return &jsonschema.Schema{
					Type:        "string",
					Pattern:     DurationPattern,
					Description: "a duration such as 500ms, 5s or 1h30m",
				}
			}
			if m != nil {
				if s := m(t); s != nil {
					return s
				}
			}
			if t == ipType {
				// invopop says "ipv4", which refuses every IPv6 address.
				return &jsonschema.Schema{
					Type:        "string",
					AnyOf:       []*jsonschema.Schema{{Format: "ipv4"}, {Format: "ipv6"}},
					Description: "an IPv4 or IPv6 address",
				}
			}
			return nil
		},
	}
}

// Reflect returns the JSON Schema of t as invopop's schema value.
// Struct field names come from `json` tags; `jsonschema` tags add ranges,
// enums, formats and descriptions. A field without `omitempty` is required.
// The keys of a map of integers are decimal integers, without a leading
// zero, negative for signed integers. t must pass CheckType.
func Reflect(t reflect.Type) *jsonschema.Schema {
	s := newReflector(nil).ReflectFromType(t)
	w := nullWalker{seen: map[reflect.Type]bool{}, keysOnly: true}
	w.walk(t, s)
	s.Version = "https://json-schema.org/draft/2020-12/schema"
	return s
}

// ReflectValues is Reflect for the values a program exchanges, with the
// schemas m gives for some types (see Mapper): a pointer (t itself, a
// field, an element, a map value) may also be null, as Go encodes a nil
// pointer, the fields of a struct embedded by pointer are not required,
// as Go leaves them out while the pointer is nil, and the keys of a map of
// signed integers may be negative. Types that give their own schema are left as they give it.
func ReflectValues(t reflect.Type, m Mapper) *jsonschema.Schema {
	s := newReflector(m).ReflectFromType(t)
	w := nullWalker{m: m, seen: map[reflect.Type]bool{}}
	w.walk(t, s)
	if t.Kind() == reflect.Pointer {
		s = orNull(s)
	}
	s.Version = "https://json-schema.org/draft/2020-12/schema"
	return s
}

// CheckType reports whether t can have a derived schema: not when it
// contains itself through the fields and elements the schema describes (a
// tree of nodes, say), which the reflector cannot describe without
// references (it would recurse until the stack overflows), nor when it
// holds a channel, a func, a complex number or an unsafe.Pointer, which
// have no JSON form (the reflector panics on them).
func CheckType(t reflect.Type) error {
	onPath := map[reflect.Type]bool{}
	var path []string
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == durationType || ownSchema(t) {
			return nil
		}
		if onPath[t] {
			return fmt.Errorf("schema: %v contains itself (at %s): a recursive type has no derived schema", t, strings.Join(path, ""))
		}
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			at := ""
			if len(path) > 0 {
				at = " (at " + strings.Join(path, "") + ")"
			}
			return fmt.Errorf("schema: %v has no JSON form%s: %w", t, at, noJSONForm(t.Kind()))
		case reflect.Slice, reflect.Array, reflect.Map:
			onPath[t] = true
			defer delete(onPath, t)
			path = append(path, "[]")
			defer func() { path = path[:len(path)-1] }()
			return walk(t.Elem())
		case reflect.Struct:
			onPath[t] = true
			defer delete(onPath, t)
			fields, err := jsonFields(t)
			if err != nil {
				return fmt.Errorf("schema: %v contains itself (embedded): a recursive type has no derived schema", err)
			}
			for _, f := range fields {
				path = append(path, "."+f.name)
				err := walk(f.typ)
				path = path[:len(path)-1]
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(t)
}

// ErrNoJSONForm is matched by CheckType's error for a type holding a
// channel, a func, a complex number or an unsafe.Pointer: no contract makes
// such values cross the wire.
var ErrNoJSONForm = errors.New("no JSON form")

type noJSONForm reflect.Kind

func (k noJSONForm) Error() string        { return "a " + reflect.Kind(k).String() + " cannot cross the wire" }
func (k noJSONForm) Is(target error) bool { return target == ErrNoJSONForm }

// ownSchema reports whether the reflector takes t's schema from t itself
// (a JSONSchema or JSONSchemaAlias method of its value), without looking
// inside it.
func ownSchema(t reflect.Type) bool { return t.Implements(customSchema) || t.Implements(aliasSchema) }

// customSchema and aliasSchema are the methods the reflector asks a type
// for its own schema.
var (
	customSchema = reflect.TypeFor[interface{ JSONSchema() *jsonschema.Schema }]()
	aliasSchema  = reflect.TypeFor[interface{ JSONSchemaAlias() any }]()
)

// orNull returns s, or a schema of s or null when s does not allow null.
func orNull(s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil || s == jsonschema.TrueSchema || s == jsonschema.FalseSchema || allowsNull(s) {
		return s
	}
	v := s.Version
	s.Version = ""
	return &jsonschema.Schema{Version: v, AnyOf: []*jsonschema.Schema{s, {Type: "null"}}}
}

func allowsNull(s *jsonschema.Schema) bool {
	if s.Type == "null" {
		return true
	}
	for _, bs := range [][]*jsonschema.Schema{s.OneOf, s.AnyOf} {
		for _, b := range bs {
			if b.Type == "null" {
				return true
			}
		}
	}
	return false
}

// withoutNull returns the branch of a schema made by ReflectValues (or by
// the "nullable" tag) that is not null, or s.
func withoutNull(s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil || s.Type != "" {
		return s
	}
	for _, bs := range [][]*jsonschema.Schema{s.AnyOf, s.OneOf} {
		if len(bs) == 2 {
			switch {
			case bs[1].Type == "null":
				return bs[0]
			case bs[0].Type == "null":
				return bs[1]
			}
		}
	}
	return s
}

// nullWalker makes the schemas of pointer fields and elements within a
// type (as the reflector made them) also allow null, the fields promoted
// from a struct embedded by pointer not required (a nil pointer leaves
// them out), and negative keys of maps of signed integers allowed. seen
// holds the struct types being walked. keysOnly (for Reflect) leaves
// pointers and required fields as the reflector made them, and only gives
// the keys of maps of integers their decimal patterns.
type nullWalker struct {
	m        Mapper
	seen     map[reflect.Type]bool
	keysOnly bool
}

func (w *nullWalker) walk(t reflect.Type, s *jsonschema.Schema) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil || s == jsonschema.TrueSchema || s == jsonschema.FalseSchema || t == durationType || ownSchema(t) || (w.m != nil && w.m(t) != nil) {
		return // a schema given whole (or shared): not the reflector's walk of t
	}
	s = withoutNull(s)
	switch t.Kind() {
	case reflect.Struct:
		if s.Properties == nil || w.seen[t] {
			return
		}
		w.seen[t] = true
		defer delete(w.seen, t)
		fields, err := jsonFields(t)
		if err != nil {
			return
		}
		for _, f := range fields {
			p, ok := s.Properties.Get(f.name)
			if !ok {
				continue
			}
			w.walk(f.typ, p)
			if w.keysOnly {
				continue
			}
			if f.typ.Kind() == reflect.Pointer {
				s.Properties.Set(f.name, orNull(p))
			}
			if f.behindPointer {
				s.Required = slices.DeleteFunc(s.Required, func(r string) bool { return r == f.name })
			}
		}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: a string or binary
			return
		}
		w.walk(t.Elem(), s.Items)
		if t.Elem().Kind() == reflect.Pointer && !w.keysOnly {
			s.Items = orNull(s.Items)
		}
	case reflect.Map:
		if w.keysOnly && unsigned(t.Key().Kind()) && s.PatternProperties == nil {
			// The reflector lets any key through; the configuration
			// decodes only digits.
			p := s.AdditionalProperties
			if p == nil {
				p = jsonschema.TrueSchema
			}
			s.PatternProperties = map[string]*jsonschema.Schema{unsignedKeys: p}
			s.AdditionalProperties = jsonschema.FalseSchema
		}
		w.walk(t.Elem(), s.AdditionalProperties)
		if t.Elem().Kind() == reflect.Pointer && !w.keysOnly {
			s.AdditionalProperties = orNull(s.AdditionalProperties)
		}
		if p, ok := s.PatternProperties[digitKeys]; ok && signed(t.Key().Kind()) {
			// The reflector's keys of a map[int] are digits only: a
			// negative key, which Go writes as "-1", would be refused, and
			// "05", which the decoders refuse, let through.
			delete(s.PatternProperties, digitKeys)
			s.PatternProperties[decimalKeys] = p
		}
		for k, p := range s.PatternProperties { // keys of other kinds than string
			w.walk(t.Elem(), p)
			if t.Elem().Kind() == reflect.Pointer && !w.keysOnly {
				s.PatternProperties[k] = orNull(p)
			}
		}
	}
}

// digitKeys is the pattern the reflector gives the keys of a map whose
// keys are signed integers. decimalKeys and unsignedKeys allow the minus
// sign where it belongs and refuse a leading zero: the configuration
// decodes a key as Go source does, "010" as 8, and Netron's decoder refuses
// "010" rather than read it as the key "10" (a JavaScript object holds both).
const (
	digitKeys    = "^[0-9]+$"
	decimalKeys  = "^(0|-?[1-9][0-9]*)$"
	unsignedKeys = "^(0|[1-9][0-9]*)$"
)

func signed(k reflect.Kind) bool {
	return k == reflect.Int || k == reflect.Int8 || k == reflect.Int16 || k == reflect.Int32 || k == reflect.Int64
}

func unsigned(k reflect.Kind) bool {
	return k == reflect.Uint || k == reflect.Uint8 || k == reflect.Uint16 || k == reflect.Uint32 || k == reflect.Uint64 || k == reflect.Uintptr
}

type jsonField struct {
	name string
	typ  reflect.Type
	// behindPointer: the field is promoted from a struct embedded by
	// pointer, which the encoder leaves out while the pointer is nil.
	behindPointer bool
}

// jsonFields returns the fields of struct t that have a property, by the
// rules the reflector follows: no "-", exported, embedded structs without
// a name and ",inline" structs flattened (other ",inline" fields are
// dropped), a later field of the same name replacing an earlier one. It
// fails on a struct that embeds itself.
func jsonFields(t reflect.Type) ([]jsonField, error) {
	var out []jsonField
	index := map[string]int{}
	embedding := map[reflect.Type]bool{}
	var collect func(t reflect.Type, behindPointer bool) error
	collect = func(t reflect.Type, behindPointer bool) error {
		if embedding[t] {
			return fmt.Errorf("%v", t)
		}
		embedding[t] = true
		defer delete(embedding, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tags := strings.Split(sf.Tag.Get("json"), ",")
			if tags[0] == "-" || strings.Split(sf.Tag.Get("jsonschema"), ",")[0] == "-" {
				continue
			}
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if (sf.Anonymous && tags[0] == "" && et.Kind() == reflect.Struct) || slices.Contains(tags[1:], "inline") {
				if et.Kind() != reflect.Struct {
					continue
				}
				if err := collect(et, behindPointer || sf.Type.Kind() == reflect.Pointer); err != nil {
					return err
				}
				continue
			}
			if !sf.Anonymous && sf.PkgPath != "" {
				continue
			}
			name := sf.Name
			if tags[0] != "" {
				name = tags[0]
			}
			if at, ok := index[name]; ok {
				out[at].typ, out[at].behindPointer = sf.Type, behindPointer
				continue
			}
			index[name] = len(out)
			out = append(out, jsonField{name, sf.Type, behindPointer})
		}
		return nil
	}
	err := collect(t, false)
	return out, err
}

// ReflectJSON returns the JSON Schema of t as a JSON document, or the
// error of CheckType.
func ReflectJSON(t reflect.Type) ([]byte, error) {
	if err := CheckType(t); err != nil {
		return nil, err
	}
	return marshal(t, Reflect(t))
}

// ReflectValuesJSON is ReflectValues as a JSON document, or the error of
// CheckType.
func ReflectValuesJSON(t reflect.Type, m Mapper) ([]byte, error) {
	if err := CheckType(t); err != nil {
		return nil, err
	}
	return marshal(t, ReflectValues(t, m))
}

func marshal(t reflect.Type, s *jsonschema.Schema) ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	return b, nil
}

// BufferSchema is the schema of binary data in JSON, as Netron writes it
// (NETRON-WIRE.md §11.1): a Node Buffer, {"type": "Buffer", "data": [bytes]}.
func BufferSchema() *jsonschema.Schema {
	props := jsonschema.NewProperties()
	props.Set("type", &jsonschema.Schema{Const: "Buffer"})
	props.Set("data", &jsonschema.Schema{Type: "array", Items: &jsonschema.Schema{Type: "integer", Minimum: "0", Maximum: "255"}})
	return &jsonschema.Schema{Type: "object", Properties: props, Required: []string{"type", "data"}, Description: "binary data, as a Node Buffer's JSON"}
}
