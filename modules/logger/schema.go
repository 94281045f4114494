package logger

import "github.com/invopop/jsonschema"

// JSONSchemaExtend restricts the values of the levels map to the four
// level names in the JSON Schema that [github.com/invopop/jsonschema]
// derives from Config; struct tags cannot express that.
func (Config) JSONSchemaExtend(s *jsonschema.Schema) {
	if s.Properties == nil {
		return
	}
	if levels, ok := s.Properties.Get("levels"); ok && levels.AdditionalProperties != nil {
		levels.AdditionalProperties.Enum = []any{"debug", "info", "warn", "error"}
	}
}
