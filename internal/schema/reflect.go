package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
)

// DurationPattern is the regular expression a duration string must match:
// Go's time.ParseDuration syntax.
const DurationPattern = `^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`

var durationType = reflect.TypeFor[time.Duration]()

// Mapper gives the schema of the values of a type (not a pointer type)
// whose JSON form is not what its Go structure suggests, or nil.
type Mapper func(reflect.Type) *jsonschema.Schema

func newReflector(m Mapper) *jsonschema.Reflector {
	return &jsonschema.Reflector{
		Anonymous:      true,
		DoNotReference: true,
		ExpandedStruct: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == durationType {
				return &jsonschema.Schema{
					Type:        "string",
					Pattern:     DurationPattern,
					Description: "a duration such as 500ms, 5s or 1h30m",
				}
			}
			if m != nil {
				return m(t)
			}
			return nil
		},
	}
}

// Reflect returns the JSON Schema of t as invopop's schema value.
// Struct field names come from `json` tags; `jsonschema` tags add ranges,
// enums, formats and descriptions. A field without `omitempty` is required.
// A pointer (t itself, a field, an element) may also be null, as Go encodes
// a nil pointer.
func Reflect(t reflect.Type) *jsonschema.Schema { return ReflectMapped(t, nil) }

// ReflectMapped is Reflect with the schemas m gives for some types.
func ReflectMapped(t reflect.Type, m Mapper) *jsonschema.Schema {
	s := newReflector(m).ReflectFromType(t)
	nullPointers(t, s, map[reflect.Type]bool{})
	if t.Kind() == reflect.Pointer {
		s = orNull(s)
	}
	s.Version = "https://json-schema.org/draft/2020-12/schema"
	return s
}

// CheckType reports whether t can have a derived schema: not when it
// contains itself through the fields and elements the schema describes (a
// tree of nodes, say), which Reflect cannot describe without references.
// Reflect must not be given such a type.
func CheckType(t reflect.Type) error {
	onPath := map[reflect.Type]bool{}
	var path []string
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == durationType || t.Implements(customSchema) || reflect.PointerTo(t).Implements(customSchema) {
			return nil
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			path = append(path, "[]")
			defer func() { path = path[:len(path)-1] }()
			return walk(t.Elem())
		case reflect.Struct:
			if onPath[t] {
				return fmt.Errorf("schema: %v contains itself (at %s): a recursive type has no derived schema", t, strings.Join(path, ""))
			}
			onPath[t] = true
			defer delete(onPath, t)
			var err error
			eachField(t, func(name string, ft reflect.Type) {
				if err == nil {
					path = append(path, "."+name)
					err = walk(ft)
					path = path[:len(path)-1]
				}
			})
			return err
		}
		return nil
	}
	return walk(t)
}

// customSchema is implemented by types that give their own schema: the
// reflector does not look inside them.
var customSchema = reflect.TypeFor[interface{ JSONSchema() *jsonschema.Schema }]()

// orNull returns s, or a schema of s or null when s does not allow null.
func orNull(s *jsonschema.Schema) *jsonschema.Schema {
	if s == nil || allowsNull(s) {
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
	for _, b := range append(slices.Clone(s.OneOf), s.AnyOf...) {
		if b.Type == "null" {
			return true
		}
	}
	return false
}

// withoutNull returns the branch of a schema made by orNull (or by the
// "nullable" tag) that is not null, or s.
func withoutNull(s *jsonschema.Schema) *jsonschema.Schema {
	for _, bs := range [][]*jsonschema.Schema{s.AnyOf, s.OneOf} {
		if len(bs) == 2 && s.Type == "" {
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

// nullPointers makes the schemas of pointer fields and elements within t
// (the schema s, as the reflector made it) also allow null. seen holds the
// struct types being walked (recursive types).
func nullPointers(t reflect.Type, s *jsonschema.Schema, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s == nil {
		return
	}
	s = withoutNull(s)
	switch t.Kind() {
	case reflect.Struct:
		if s.Properties == nil || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		eachField(t, func(name string, ft reflect.Type) {
			p, ok := s.Properties.Get(name)
			if !ok {
				return
			}
			nullPointers(ft, p, seen)
			if ft.Kind() == reflect.Pointer {
				s.Properties.Set(name, orNull(p))
			}
		})
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // []byte: a string or binary
			return
		}
		nullPointers(t.Elem(), s.Items, seen)
		if t.Elem().Kind() == reflect.Pointer {
			s.Items = orNull(s.Items)
		}
	case reflect.Map:
		nullPointers(t.Elem(), s.AdditionalProperties, seen)
		if t.Elem().Kind() == reflect.Pointer {
			s.AdditionalProperties = orNull(s.AdditionalProperties)
		}
	}
}

// eachField calls f with the JSON name and type of each field of struct t
// that has a property, by the rules the reflector follows (encoding/json's):
// no "-", exported, and embedded structs without a name flattened.
func eachField(t reflect.Type, f func(name string, ft reflect.Type)) {
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
			eachField(et, f)
			continue
		}
		if !sf.Anonymous && sf.PkgPath != "" {
			continue
		}
		name := sf.Name
		if tags[0] != "" {
			name = tags[0]
		}
		f(name, sf.Type)
	}
}

// ReflectJSON returns the JSON Schema of t as a JSON document, or the
// error of CheckType.
func ReflectJSON(t reflect.Type) ([]byte, error) { return ReflectJSONMapped(t, nil) }

// ReflectJSONMapped is ReflectJSON with the schemas m gives for some types.
func ReflectJSONMapped(t reflect.Type, m Mapper) ([]byte, error) {
	if err := CheckType(t); err != nil {
		return nil, err
	}
	b, err := json.Marshal(ReflectMapped(t, m))
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	return b, nil
}
