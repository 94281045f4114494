package config

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/invopop/jsonschema"
	"go.uber.org/fx"

	"github.com/titanframework/titan/internal/schema"
)

// SectionGroup is the fx value group that collects section specs.
const SectionGroup = "titan.config.sections"

var sectionName = regexp.MustCompile(`^[a-z][a-zA-Z0-9_-]*$`)

// Spec declares one configuration section: its name, its Go type and its
// default values. Create one with [NewSpec]; the zero Spec is invalid.
type Spec struct {
	name     string
	typ      reflect.Type
	defaults any
}

// NewSpec declares the section name with type T and its defaults. T is
// usually a struct whose fields carry `json` (and optionally `jsonschema` and
// `secret`) tags.
func NewSpec[T any](name string, defaults T) Spec {
	return Spec{name: name, typ: reflect.TypeFor[T](), defaults: defaults}
}

// Name returns the section name.
func (s Spec) Name() string { return s.name }

// String describes the spec for diagnostics.
func (s Spec) String() string { return fmt.Sprintf("config.Spec(%s: %v)", s.name, s.typ) }

// AsSection registers a section with the app's configuration: the section is
// validated at load and its defaults appear in the effective configuration.
func AsSection[T any](name string, defaults T) fx.Option {
	spec := NewSpec(name, defaults)
	return fx.Provide(fx.Annotate(
		func() Spec { return spec },
		fx.ResultTags(`group:"`+SectionGroup+`"`),
	))
}

// section is a compiled Spec.
type section struct {
	Spec
	schema    *jsonschema.Schema
	validator *schema.Validator
	defaults  map[string]any
	secrets   map[string]bool // dotted paths relative to the section; "*" for a map key
	// mapSecrets says that a path of secrets has a "*".
	mapSecrets bool
}

func compileSpec(s Spec) (*section, error) {
	if s.typ == nil {
		return nil, fmt.Errorf("config: zero Spec (use config.NewSpec)")
	}
	if !sectionName.MatchString(s.name) {
		return nil, fmt.Errorf("config: section name %q: must match %s", s.name, sectionName)
	}
	if t := derefType(s.typ); t.Kind() != reflect.Struct && (t.Kind() != reflect.Map || t.Key().Kind() != reflect.String) {
		// Its keys are the section's: a single value has none (its
		// default would read as an empty object).
		return nil, fmt.Errorf("config: section %q of type %v: a section is a struct (or a map with string keys) of keys; for one value, give it a struct with one field", s.name, s.typ)
	}
	doc, err := schema.ReflectJSON(s.typ)
	if err != nil {
		return nil, fmt.Errorf("config: section %q: %w", s.name, err)
	}
	if err := checkTags(s.typ, map[reflect.Type]bool{}); err != nil {
		return nil, fmt.Errorf("config: section %q: %w", s.name, err)
	}
	v, err := schema.Compile(doc)
	if err != nil {
		return nil, fmt.Errorf("config: section %q: %w", s.name, err)
	}
	defs, _ := toMap(reflect.ValueOf(s.defaults)).(map[string]any)
	if defs == nil {
		defs = map[string]any{}
	}
	sec := &section{
		Spec:      s,
		schema:    schema.Reflect(s.typ),
		validator: v,
		defaults:  defs,
		secrets:   map[string]bool{},
	}
	secretPaths(s.typ, "", sec.secrets, 0)
	for p := range sec.secrets {
		sec.mapSecrets = sec.mapSecrets || slices.Contains(strings.Split(p, "."), "*")
	}
	return sec, nil
}

// checkTags refuses, in t or in any type t holds, a field whose tags make
// the section's schema describe it otherwise than the loader decodes it,
// so that a key the schema accepts would be lost, or one the loader reads
// refused:
//   - the json tag option ",inline" on a field other than an embedded
//     struct without a name: the schema wants its keys in its place, the
//     loader reads them under the field's name;
//   - an embedded struct with a json name: the schema wants its keys under
//     that name, the loader reads them in its place;
//   - a json tag naming a field "-" (`json:"-,"`), or the jsonschema tag
//     "-" on a field the loader reads: the schema leaves the key out.
func checkTags(t reflect.Type, seen map[reflect.Type]bool) error {
	t = derefType(t)
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = derefType(t.Elem())
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return nil
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")
		if tag[0] == "-" && len(tag) == 1 {
			continue
		}
		at := t.String() + "." + f.Name
		embedded := f.Anonymous && derefType(f.Type).Kind() == reflect.Struct
		switch {
		case slices.Contains(tag[1:], "inline") && !(embedded && tag[0] == ""):
			return fmt.Errorf("field %s: json tag option \",inline\" is not supported: the configuration reads the field's keys under %q, its schema would want them in its place; drop the option, or embed the struct without a json name", at, cmp.Or(tag[0], f.Name))
		case embedded && tag[0] != "" && tag[0] != "-":
			return fmt.Errorf("field %s: an embedded struct named %q by its json tag is not supported: the configuration reads its keys in place of the section's, its schema wants them under %q; make it a named field, or drop the name", at, tag[0], tag[0])
		case !f.IsExported() && !f.Anonymous:
			continue
		case tag[0] == "-":
			return fmt.Errorf("field %s: json tag %q names the key \"-\": give it another name, or tag it json:\"-\" to leave it out of the configuration", at, f.Tag.Get("json"))
		case strings.Split(f.Tag.Get("jsonschema"), ",")[0] == "-":
			return fmt.Errorf("field %s: jsonschema tag \"-\" leaves the key out of the section's schema, which then refuses it, while the configuration reads it: tag it json:\"-\" to leave it out of the configuration", at)
		}
		if err := checkTags(f.Type, seen); err != nil {
			return err
		}
	}
	return nil
}

// derefType returns t without its pointers.
func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// embeddedUnnamed reports whether the json tag of field f gives it no name
// (none, or options only, as `json:",omitempty"`): an embedded struct
// without a name has its keys in place of its own.
func embeddedUnnamed(f reflect.StructField) bool {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name == ""
}

// jsonName returns a field's JSON name and whether it has omitempty; name
// "" means the field is not serialised.
func jsonName(f reflect.StructField) (name string, omitempty bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(","+opts+",", ",omitempty,")
}

// secretPaths records in out the paths of the fields of t tagged
// secret:"true". A list's elements have the paths of the list (see
// maskList); the values of a map, the path of the map and "*".
func secretPaths(t reflect.Type, prefix string, out map[string]bool, depth int) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map {
			prefix = join(prefix, "*")
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || depth > 16 {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && embeddedUnnamed(f) {
			secretPaths(f.Type, prefix, out, depth+1)
			continue
		}
		name, _ := jsonName(f)
		if name == "" {
			continue
		}
		p := join(prefix, name)
		if f.Tag.Get("secret") == "true" {
			out[p] = true
		}
		secretPaths(f.Type, p, out, depth+1)
	}
}

var durationType = reflect.TypeFor[time.Duration]()

// toMap converts a Go value into the configuration's value model, the one
// files produce: maps keyed by JSON names, slices, strings (durations as
// "5s"), numbers and booleans.
func toMap(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return toMap(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t.Format(time.RFC3339Nano)
		}
		m := map[string]any{}
		structToMap(v, m)
		return m
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		m := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			m[fmt.Sprint(it.Key().Interface())] = toMap(it.Value())
		}
		return m
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = toMap(v.Index(i))
		}
		return out
	default:
		return v.Interface()
	}
}

func structToMap(v reflect.Value, m map[string]any) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && embeddedUnnamed(f) {
			for fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					break
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct {
				structToMap(fv, m)
			}
			continue
		}
		name, omitempty := jsonName(f)
		if name == "" || (omitempty && fv.IsZero()) {
			continue
		}
		if val := toMap(fv); val != nil {
			m[name] = val
		}
	}
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
