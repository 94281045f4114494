package schema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/invopop/jsonschema"
)

// DurationPattern is the regular expression a duration string must match:
// Go's time.ParseDuration syntax.
const DurationPattern = `^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+)$`

var durationType = reflect.TypeFor[time.Duration]()

func newReflector() *jsonschema.Reflector {
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
			return nil
		},
	}
}

// Reflect returns the JSON Schema of t as invopop's schema value.
// Struct field names come from `json` tags; `jsonschema` tags add ranges,
// enums, formats and descriptions. A field without `omitempty` is required.
func Reflect(t reflect.Type) *jsonschema.Schema {
	s := newReflector().ReflectFromType(t)
	s.Version = "https://json-schema.org/draft/2020-12/schema"
	return s
}

// ReflectJSON returns the JSON Schema of t as a JSON document.
func ReflectJSON(t reflect.Type) ([]byte, error) {
	b, err := json.Marshal(Reflect(t))
	if err != nil {
		return nil, fmt.Errorf("schema: %v: %w", t, err)
	}
	return b, nil
}
