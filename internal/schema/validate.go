package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var (
	printer  = message.NewPrinter(language.English)
	resource atomic.Uint64
)

// Validator checks JSON values against one compiled schema.
// It is safe for concurrent use.
type Validator struct {
	schema *jsonschema.Schema
	doc    []byte
}

// Compile compiles a JSON Schema document. A document without "$schema" is
// read as draft 2020-12. The "format" keyword is asserted, as users of JSON
// Schema contracts expect (draft 2020-12 only annotates it by default):
// email, uuid, date-time, date, time, uri, uri-reference, ipv4, ipv6,
// hostname, duration (ISO 8601), json-pointer, regex and the other formats
// santhosh-tekuri/jsonschema knows are checked; unknown formats are
// ignored.
func Compile(doc []byte) (*Validator, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("schema: invalid JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	url := fmt.Sprintf("titan:///schema/%d.json", resource.Add(1))
	if err := c.AddResource(url, v); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return &Validator{schema: s, doc: doc}, nil
}

// Document returns the schema document the validator was compiled from.
func (v *Validator) Document() json.RawMessage { return v.doc }

// Violation is one reason a value does not match a schema.
type Violation struct {
	// Path locates the failing value: object keys and array indexes from the
	// root. It is empty for the root value.
	Path []string
	// Reason says what is wrong, in English.
	Reason string
}

// DottedPath joins Path with dots ("netron.requestTimeout", "items.2").
func (v Violation) DottedPath() string { return strings.Join(v.Path, ".") }

// Pointer returns Path as a JSON pointer ("/netron/requestTimeout").
func (v Violation) Pointer() string {
	var b strings.Builder
	for _, p := range v.Path {
		b.WriteByte('/')
		p = strings.ReplaceAll(p, "~", "~0")
		b.WriteString(strings.ReplaceAll(p, "/", "~1"))
	}
	return b.String()
}

// Validate checks a JSON value (as produced by [Normalize]) and returns every
// violation, deepest first within each branch; nil means the value is valid.
func (v *Validator) Validate(value any) []Violation {
	err := v.schema.Validate(value)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Violation{{Reason: err.Error()}}
	}
	var out []Violation
	collect(ve, &out)
	return out
}

func collect(e *jsonschema.ValidationError, out *[]Violation) {
	if value := notNull(e); value != nil {
		// A value that is not null breaks what the value may be, not
		// "want null" besides: its own reasons, or both types in one.
		if t, ok := typeOnly(value, e.InstanceLocation); ok {
			*out = append(*out, Violation{
				Path:   append([]string(nil), e.InstanceLocation...),
				Reason: reason(&kind.Type{Got: t.Got, Want: append(slices.Clone(t.Want), "null")}),
			})
			return
		}
		collect(value, out)
		return
	}
	if len(e.Causes) == 0 {
		// Name the offending key itself rather than its parent object.
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				*out = append(*out, Violation{Path: appendPath(e.InstanceLocation, p), Reason: "unknown key, not allowed here"})
			}
			return
		case *kind.Required:
			for _, p := range k.Missing {
				*out = append(*out, Violation{Path: appendPath(e.InstanceLocation, p), Reason: "required, but missing"})
			}
			return
		}
		*out = append(*out, Violation{
			Path:   append([]string(nil), e.InstanceLocation...),
			Reason: reason(e.ErrorKind),
		})
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

// notNull returns the cause of the failed anyOf or oneOf of a schema and
// {"type": "null"} (what a pointer may be, see orNull) that is not its
// null branch, or nil for another error. The null branch fails only when
// the value is not null, so the other one says what is wrong with it.
func notNull(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
	default:
		return nil
	}
	if len(e.Causes) != 2 {
		return nil
	}
	for i, c := range e.Causes {
		if t, ok := c.ErrorKind.(*kind.Type); ok && len(c.Causes) == 0 && slices.Equal(t.Want, []string{"null"}) {
			return e.Causes[1-i]
		}
	}
	return nil
}

// typeOnly returns the type error e comes down to, when it is only that
// one, of the value at loc.
func typeOnly(e *jsonschema.ValidationError, loc []string) (*kind.Type, bool) {
	for len(e.Causes) == 1 {
		e = e.Causes[0]
	}
	t, ok := e.ErrorKind.(*kind.Type)
	return t, ok && len(e.Causes) == 0 && slices.Equal(e.InstanceLocation, loc)
}

// Normalize converts a Go value into the JSON value model the validator
// expects (map[string]any, []any, json.Number, string, bool, nil) by a JSON
// round trip, so Go maps, structs, slices and integer types all validate.
func Normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

func appendPath(loc []string, key string) []string {
	return append(append(make([]string, 0, len(loc)+1), loc...), key)
}
