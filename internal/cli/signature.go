package cli

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// maxFields is how many properties of an object type a signature shows.
const maxFields = 6

// maxDepth is how deep a signature expands nested object types; deeper
// ones are shown as {...}.
const maxDepth = 2

// signature renders a method as one line derived from its contracts:
//
//	add(number, number) -> number
//	count(integer) -> stream of integer
//	reset(string)
//	find({id string, limit? integer}) -> []{id string, name string}
//
// Parameters are the items of the input schema's tuple (prefixItems),
// prefixed by their title when a contract gives one; the result is the
// output schema's type, "stream of" that type for a stream method, and
// nothing for a void method. Types are JSON Schema's (number, integer,
// string, boolean, null, object), []T for an array, {f T, g? U} for an
// object (g optional), map[string]T, A|B for alternatives, and a $ref's
// last segment. Without schemas (a TypeScript server) the metadata's type
// names are used.
func signature(m methodDoc, argTypes []string, resultType string) string {
	var b strings.Builder
	b.WriteString(m.Name)
	b.WriteByte('(')
	if m.InputSchema != nil {
		b.WriteString(params(m.InputSchema))
	} else {
		b.WriteString(strings.Join(argTypes, ", "))
	}
	b.WriteByte(')')
	result := ""
	switch {
	case m.OutputSchema != nil:
		result = typeName(m.OutputSchema, 0)
	case m.Stream:
		result = "any"
	case resultType != "void":
		result = resultType
	}
	if m.Stream {
		result = "stream of " + result
	}
	if result != "" {
		b.WriteString(" -> ")
		b.WriteString(result)
	}
	return b.String()
}

// params renders an input schema as a parameter list.
func params(in any) string {
	s, ok := in.(map[string]any)
	if !ok {
		return typeName(in, 0)
	}
	var parts []string
	prefix, isTuple := s["prefixItems"].([]any)
	for _, p := range prefix {
		parts = append(parts, param(p))
	}
	if rest, ok := s["items"].(map[string]any); ok && (isTuple || hasType(s, "array")) {
		parts = append(parts, "..."+typeName(rest, 0))
	}
	if !isTuple && !hasType(s, "array") {
		// Not a tuple: shown as one value.
		return typeName(in, 0)
	}
	return strings.Join(parts, ", ")
}

// param renders one parameter: "title type", or the type alone.
func param(s any) string {
	t := typeName(s, 0)
	if m, ok := s.(map[string]any); ok {
		if title, ok := m["title"].(string); ok && title != "" && !strings.ContainsAny(title, " \t\n,()") {
			return title + " " + t
		}
	}
	return t
}

// typeName renders a JSON Schema (as decoded JSON) as a short type.
func typeName(schema any, depth int) string {
	s, ok := schema.(map[string]any)
	if !ok {
		if b, ok := schema.(bool); ok && !b {
			return "never"
		}
		return "any"
	}
	if ref, ok := s["$ref"].(string); ok {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	if c, ok := s["const"]; ok {
		return jsonText(c)
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 && len(e) <= maxFields {
		parts := make([]string, len(e))
		for i, v := range e {
			parts[i] = jsonText(v)
		}
		return strings.Join(parts, "|")
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			parts := make([]string, len(alts))
			for i, a := range alts {
				parts[i] = typeName(a, depth)
			}
			return strings.Join(parts, "|")
		}
	}
	switch t := s["type"].(type) {
	case string:
		return named(t, s, depth)
	case []any:
		var parts []string
		for _, x := range t {
			if x, ok := x.(string); ok {
				parts = append(parts, named(x, s, depth))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "|")
		}
	}
	if _, ok := s["properties"]; ok {
		return named("object", s, depth)
	}
	return "any"
}

// named renders a schema whose type is t.
func named(t string, s map[string]any, depth int) string {
	switch t {
	case "array":
		if prefix, ok := s["prefixItems"].([]any); ok {
			parts := make([]string, len(prefix))
			for i, p := range prefix {
				parts[i] = typeName(p, depth)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
		if items, ok := s["items"]; ok {
			return "[]" + typeName(items, depth)
		}
		return "[]any"
	case "object":
		if props, ok := s["properties"].(map[string]any); ok && len(props) > 0 {
			if depth >= maxDepth {
				return "{...}"
			}
			required, _ := s["required"].([]any)
			keys := slices.Sorted(maps.Keys(props))
			fields := make([]string, 0, min(len(keys), maxFields)+1)
			for i, k := range keys {
				if i == maxFields {
					fields = append(fields, "...")
					break
				}
				opt := "?"
				if slices.Contains(required, any(k)) {
					opt = ""
				}
				fields = append(fields, k+opt+" "+typeName(props[k], depth+1))
			}
			return "{" + strings.Join(fields, ", ") + "}"
		}
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			return "map[string]" + typeName(ap, depth)
		}
		return "object"
	}
	return t
}

// hasType reports whether a schema's type is t or includes t.
func hasType(s map[string]any, t string) bool {
	switch v := s["type"].(type) {
	case string:
		return v == t
	case []any:
		return slices.Contains(v, any(t))
	}
	return false
}

// jsonText renders a JSON value compactly.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
