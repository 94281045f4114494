package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/invopop/jsonschema"
	kjson "github.com/knadh/koanf/parsers/json"
	ktoml "github.com/knadh/koanf/parsers/toml/v2"
	kyaml "github.com/knadh/koanf/parsers/yaml"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"go.yaml.in/yaml/v3"
)

// DefaultFiles are the names looked for in the working directory when no
// configuration file is given, in this order; the first one found is used.
var DefaultFiles = []string{"titan.yaml", "titan.yml", "titan.json", "titan.toml"}

// layer is one source of values with the origin of each leaf.
type layer struct {
	data     map[string]any    // nested maps
	origin   map[string]string // dotted leaf path -> where it came from
	problems []Problem         // values that could not be converted
}

func newLayer() *layer {
	return &layer{data: map[string]any{}, origin: map[string]string{}}
}

// set stores value at the dotted path parts, creating maps on the way, and
// keeps the origins in step: what value replaces (a value on the way, what
// was at or below the path) loses its origin, and a map value gives each of
// its leaves the origin, as a file's leaves have theirs (koanf merges a map
// into the one below it, leaf by leaf).
func (l *layer) set(parts []string, value any, origin string) {
	m := l.data
	for i, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
			delete(l.origin, strings.Join(parts[:i+1], "."))
		}
		m = next
	}
	m[parts[len(parts)-1]] = value
	path := strings.Join(parts, ".")
	forgetOrigins(l.origin, path)
	if mv, ok := value.(map[string]any); ok && len(mv) > 0 {
		flatten(mv, path, func(p string) { l.origin[p] = origin })
	} else {
		l.origin[path] = origin
	}
}

// forgetOrigins drops the origins at and below path.
func forgetOrigins(origin map[string]string, path string) {
	for p := range origin {
		if p == path || strings.HasPrefix(p, path+".") {
			delete(origin, p)
		}
	}
}

// parserFor picks a parser from a file extension.
func parserFor(path string) (interface {
	Unmarshal([]byte) (map[string]any, error)
}, string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return kyaml.Parser(), "yaml", nil
	case ".json":
		return kjson.Parser(), "json", nil
	case ".toml":
		return ktoml.Parser(), "toml", nil
	}
	return nil, "", fmt.Errorf("config: file %q: unknown format (use .yaml, .yml, .json or .toml)", path)
}

// findDefaultFile returns the first of DefaultFiles present in dir, or "".
func findDefaultFile(dir string) string {
	for _, name := range DefaultFiles {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// loadFile reads one configuration file into a layer. why says how the file
// was chosen ("--config", "default") for error messages.
func loadFile(path, why string) (*layer, error) {
	parser, format, err := parserFor(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config: file %q (%s) does not exist", path, why)
		}
		return nil, fmt.Errorf("config: file %q (%s): %w", path, why, err)
	}
	data, err := parser.Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("config: file %q is not valid %s%s: %w", path, strings.ToUpper(format), syntaxLine(err, b), err)
	}
	if format == "yaml" {
		if line := secondYAMLDocument(b); line > 0 {
			return nil, fmt.Errorf("config: file %q holds a second YAML document at line %d; Titan reads one document per file: merge them, or give each its own file", path, line)
		}
	}
	if data == nil {
		data = map[string]any{}
	}
	lines := map[string]int{}
	var problems []Problem
	switch format {
	case "yaml":
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) == nil {
			yamlLines(&doc, "", lines, func(key string, n *yaml.Node) {
				if octal, decimal, ok := yamlOctal(n); ok {
					problems = append(problems, Problem{Path: key, Source: fmt.Sprintf("%s:%d", path, n.Line), Reason: fmt.Sprintf(
						"%s has a leading zero, so YAML reads it as the octal number %d, where a variable or a flag reads it as decimal: write %d, or %s for octal",
						n.Value, octal, decimal, octalLiteral(n.Value))})
				}
			})
		}
	case "json":
		if dup, line, first := jsonLines(b, lines); dup != "" {
			return nil, fmt.Errorf("config: file %q is not valid JSON: line %d: key %q already defined at line %d", path, line, dup, first)
		}
	case "toml":
		tomlLines(b, lines)
	}
	l := newLayer()
	l.problems = problems
	l.data = normalizeKeys(data).(map[string]any)
	for k, v := range l.data {
		if v == nil {
			// A section whose keys are all commented out ("netron:" and
			// comments, which YAML reads as null) says nothing: it keeps
			// the section's defaults rather than wiping them.
			delete(l.data, k)
		}
	}
	flattenLists(l.data, "", func(p string) {
		for src := p; ; src = parent(src) {
			if n, ok := lines[src]; ok {
				l.origin[p] = fmt.Sprintf("%s:%d", path, n)
				return
			}
			if src == "" {
				l.origin[p] = path
				return
			}
		}
	})
	return l, nil
}

// syntaxLine says on which line of b a JSON or TOML syntax error is, as
// " at line 4", or "" (the YAML parser says it itself).
func syntaxLine(err error, b []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		at := min(max(int(se.Offset)-1, 0), len(b)) // the offending byte
		return fmt.Sprintf(" at line %d", 1+bytes.Count(b[:at], []byte{'\n'}))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Sprintf(" at line %d", row)
	}
	return ""
}

// secondYAMLDocument returns the line where the second non-empty document
// of a YAML stream starts, or 0 when there is none (or the stream does not
// parse: the parser has said why). An empty document, such as after a
// trailing "---", says nothing and is not counted.
func secondYAMLDocument(b []byte) int {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	seen := 0
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return 0
		}
		if len(doc.Content) == 0 || (doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null") {
			continue
		}
		if seen++; seen == 2 {
			return doc.Line
		}
	}
}

// parent returns the dotted path without its last element.
func parent(p string) string {
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// flatten calls fn with the dotted path of every leaf of m (an empty map is
// a leaf too).
func flatten(v any, prefix string, fn func(path string)) {
	m, ok := v.(map[string]any)
	if !ok || (len(m) == 0 && prefix != "") {
		fn(prefix)
		return
	}
	for k, child := range m {
		flatten(child, join(prefix, k), fn)
	}
}

// flattenLists is flatten that also calls fn with the path of every list
// and of every leaf its elements hold ("sinks", "sinks.1.level"), so that
// a problem in an element names the element's own line. A source that
// sets a list replaces it whole, elements and all.
func flattenLists(v any, prefix string, fn func(path string)) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 0 && prefix != "" {
			fn(prefix)
			return
		}
		for k, child := range t {
			flattenLists(child, join(prefix, k), fn)
		}
	case []any:
		fn(prefix)
		for i, child := range t {
			flattenLists(child, join(prefix, strconv.Itoa(i)), fn)
		}
	default:
		fn(prefix)
	}
}

// normalizeKeys turns map[any]any (TOML, old YAML) into map[string]any.
func normalizeKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = normalizeKeys(c)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, c := range t {
			m[fmt.Sprint(k)] = normalizeKeys(c)
		}
		return m
	case []any:
		for i, c := range t {
			t[i] = normalizeKeys(c)
		}
		return t
	}
	return v
}

// yamlLines records the line of every mapping key and sequence item, and
// calls scalar with the dotted key of every scalar.
func yamlLines(n *yaml.Node, prefix string, out map[string]int, scalar func(key string, n *yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			yamlLines(c, prefix, out, scalar)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(prefix, k.Value)
			out[p] = k.Line
			yamlLines(v, p, out, scalar)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := join(prefix, strconv.Itoa(i))
			out[p] = c.Line
			yamlLines(c, p, out, scalar)
		}
	case yaml.AliasNode:
		if n.Alias != nil {
			yamlLines(n.Alias, prefix, out, scalar)
		}
	case yaml.ScalarNode:
		scalar(prefix, n)
	}
}

// yamlOctal reports whether n is a plain integer written with a leading
// zero whose value YAML 1.1 reads as octal and differs from the decimal
// one (010 is 8), as the YAML parser reads it, and returns both: JSON and
// TOML refuse such a number and a variable or a flag reads it as decimal,
// so the value would change with its source.
func yamlOctal(n *yaml.Node) (octal, decimal int64, ok bool) {
	if n.Style != 0 || n.ShortTag() != "!!int" {
		return 0, 0, false
	}
	digits := strings.TrimLeft(n.Value, "+-")
	if len(digits) < 2 || digits[0] != '0' || strings.ContainsAny(digits[1:2], "xXoObB") {
		return 0, 0, false
	}
	octal, err := strconv.ParseInt(n.Value, 0, 64)
	decimal, err2 := strconv.ParseInt(n.Value, 10, 64)
	return octal, decimal, err == nil && err2 == nil && octal != decimal
}

// octalLiteral writes v, an integer with a leading zero, as an explicit
// YAML octal: "-010" as "-0o10".
func octalLiteral(v string) string {
	sign := v[:len(v)-len(strings.TrimLeft(v, "+-"))]
	return sign + "0o" + strings.TrimLeft(v[len(sign):], "0")
}

// jsonLines records the line of every object key of a JSON document, and
// returns the first key an object gives twice (dotted, as the other keys),
// with its line and that of its first mention: the JSON parser keeps the
// last without a word, where YAML and TOML refuse the document.
func jsonLines(b []byte, out map[string]int) (dup string, line, first int) {
	dec := json.NewDecoder(bytes.NewReader(b))
	lineAt := func(off int64) int { return 1 + bytes.Count(b[:min(int(off), len(b))], []byte{'\n'}) }
	var walk func(prefix string) error
	walk = func(prefix string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				p := join(prefix, k)
				at := lineAt(dec.InputOffset())
				if was, ok := out[p]; !ok {
					out[p] = at
				} else if dup == "" {
					dup, line, first = p, at, was
				}
				if err := walk(p); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := walk(join(prefix, strconv.Itoa(i))); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // closing delimiter
		return err
	}
	_ = walk("")
	return dup, line, first
}

// tomlLines records the line of every key a TOML document sets: a key of a
// table header at the header, a key of a key/value (dotted, or in an
// inline table) at the key, an element of an array of tables at its
// header. A key a document names more than once keeps its first line.
func tomlLines(b []byte, out map[string]int) {
	var nl []int // offsets of the line ends
	for i, c := range b {
		if c == '\n' {
			nl = append(nl, i)
		}
	}
	lineAt := func(n *unstable.Node) int { return 1 + sort.SearchInts(nl, int(n.Raw.Offset)) }
	note := func(path string, line int) {
		if _, seen := out[path]; !seen {
			out[path] = line
		}
	}
	elems := map[string]int{} // arrays of tables: elements so far
	var keyValue func(kv *unstable.Node, table string)
	keyValue = func(kv *unstable.Node, table string) {
		path := table
		for it := kv.Key(); it.Next(); {
			path = join(path, string(it.Node().Data))
			note(path, lineAt(it.Node()))
		}
		v := kv.Value()
		switch v.Kind {
		case unstable.InlineTable:
			for it := v.Children(); it.Next(); {
				keyValue(it.Node(), path)
			}
		case unstable.Array:
			i := 0
			for it := v.Children(); it.Next(); i++ {
				if it.Node().Kind == unstable.InlineTable {
					for kt := it.Node().Children(); kt.Next(); {
						keyValue(kt.Node(), join(path, strconv.Itoa(i)))
					}
				}
			}
		}
	}
	var p unstable.Parser
	p.Reset(b)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = ""
			for it := e.Key(); it.Next(); {
				k := it.Node()
				table = join(table, string(k.Data))
				note(table, lineAt(k))
				n, isArray := elems[table]
				switch {
				case e.Kind == unstable.ArrayTable && it.IsLast():
					elems[table] = n + 1
					table = join(table, strconv.Itoa(n))
					note(table, lineAt(k))
				case isArray: // [a.b] after [[a]]: a key of a's last element
					table = join(table, strconv.Itoa(n-1))
				}
			}
		case unstable.KeyValue:
			keyValue(e, table)
		}
	}
}

// fold reduces a name for matching: lower case, without "_" and "-".
func fold(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "").Replace(s)
}

// resolve maps raw path segments (from an env var or a --set key) onto the
// names of the schema, and returns the schema of the target (nil when the
// path leaves what the schema describes). A segment beyond the schema's
// names (a map key) written in upper case, as a variable's name is, is
// the key that one of held (the values of the sources read before) has
// there ignoring case, "_" and "-", if any: its case is lost in the name,
// where the module reads the key as the file spells it. Otherwise it is
// lowercased.
func resolve(sections map[string]*section, raw []string, held ...map[string]any) ([]string, *jsonschema.Schema) {
	out := make([]string, len(raw))
	var s *jsonschema.Schema
	for i, seg := range raw {
		switch {
		case i == 0:
			out[0] = strings.ToLower(seg)
			for name, sec := range sections {
				if fold(name) == fold(seg) {
					out[0], s = name, sec.schema
				}
			}
			if s == nil {
				out[0] = seg
				if strings.ToUpper(seg) == seg {
					out[0] = strings.ToLower(seg)
				}
			}
		case s != nil && s.Properties != nil && matchProperty(s, seg) != "":
			name := matchProperty(s, seg)
			out[i] = name
			s, _ = s.Properties.Get(name)
		case s != nil && s.AdditionalProperties != nil && s.AdditionalProperties != jsonschema.FalseSchema:
			out[i] = heldKey(held, out[:i], seg)
			s = s.AdditionalProperties
		case s != nil && len(s.PatternProperties) == 1:
			// A map with integer keys: its values' schema is its pattern's.
			out[i] = heldKey(held, out[:i], seg)
			for _, p := range s.PatternProperties {
				s = p
			}
		default:
			out[i] = heldKey(held, out[:i], seg)
			s = nil
		}
	}
	return out, s
}

// heldKey returns seg, a segment of a key after path: when it is written
// in upper case, the key of the map at path in held that matches it
// ignoring case, "_" and "-" (when several do: its lowercase if that is
// one of them, else the first in sorted order), or its lowercase when
// none does.
func heldKey(held []map[string]any, path []string, seg string) string {
	lower := lowerIfUpper(seg)
	if lower == seg {
		return seg
	}
	var found []string
	for _, m := range held {
		var v any = m
		for _, p := range path {
			if mm, ok := v.(map[string]any); ok {
				v = mm[p]
			} else {
				v = nil
			}
		}
		mm, _ := v.(map[string]any)
		for k := range mm {
			if fold(k) == fold(seg) {
				found = append(found, k)
			}
		}
	}
	if len(found) == 0 || slices.Contains(found, lower) {
		return lower
	}
	return slices.Min(found)
}

func lowerIfUpper(s string) string {
	if strings.ToUpper(s) == s {
		return strings.ToLower(s)
	}
	return s
}

func matchProperty(s *jsonschema.Schema, seg string) string {
	if _, ok := s.Properties.Get(seg); ok {
		return seg
	}
	f := fold(seg)
	for k := range s.Properties.FromOldest() {
		if fold(k) == f {
			return k
		}
	}
	return ""
}

// convert turns a string from the environment or a flag into the type the
// schema wants at that place.
func convert(s *jsonschema.Schema, raw string) (any, error) {
	if s == nil {
		return raw, nil
	}
	if s.Type == "" {
		// A value of several types (nats.embedded: true or {port: N}): the
		// first of them the string reads as.
		for _, alt := range append(slices.Clone(s.AnyOf), s.OneOf...) {
			switch alt.Type {
			case "integer", "number", "boolean", "array", "object":
				if v, err := convert(alt, raw); err == nil {
					return v, nil
				}
			}
		}
	}
	switch s.Type {
	case "integer":
		t := strings.TrimSpace(raw)
		n, err := strconv.ParseInt(t, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			// An integer all the same (a uint64 may hold it): the check
			// of its Go type's range names that range (fitProblems).
			return json.Number(t), nil
		}
		if err != nil {
			return nil, fmt.Errorf("want an integer, got %q", raw)
		}
		return n, nil
	case "number":
		t := strings.TrimSpace(raw)
		f, err := strconv.ParseFloat(t, 64)
		if errors.Is(err, strconv.ErrRange) && json.Valid([]byte(t)) {
			// A JSON number beyond float64: left to the check of its Go
			// type's range (fitProblems), which names that range.
			return json.Number(t), nil
		}
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) { // JSON, and so the schema, has no NaN nor Inf
			return nil, fmt.Errorf("want a number, got %q", raw)
		}
		return f, nil
	case "boolean":
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("want a boolean (true or false), got %q", raw)
		}
		return b, nil
	case "array":
		t := strings.TrimSpace(raw)
		if strings.HasPrefix(t, "[") {
			var v []any
			if err := json.Unmarshal([]byte(t), &v); err != nil {
				return nil, fmt.Errorf("want a JSON array: %v", err)
			}
			return v, nil
		}
		if t == "" {
			return []any{}, nil
		}
		parts := strings.Split(t, ",")
		out := make([]any, len(parts))
		for i, p := range parts {
			v, err := convert(s.Items, strings.TrimSpace(p))
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case "object":
		var v map[string]any
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				// Valid JSON of another kind: encoding/json would name Go's
				// types (map[string]interface {}).
				return nil, fmt.Errorf("want a JSON object such as {\"key\": 1}, got %q", raw)
			}
			return nil, fmt.Errorf("want a JSON object: %v", err)
		}
		return v, nil
	}
	return raw, nil
}

// loadEnv reads variables starting with prefix. The variables at an alias
// are read after the others, so that they replace what the variables at
// their keys set, whatever the order of their names.
func loadEnv(environ []string, prefix string, sections map[string]*section, aliases map[string]string, held []map[string]any) *layer {
	l := newLayer()
	sort.Strings(environ)
	sort.SliceStable(environ, func(i, j int) bool {
		return !envAtAlias(environ[i], prefix, aliases) && envAtAlias(environ[j], prefix, aliases)
	})
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, prefix) || len(name) == len(prefix) {
			continue
		}
		raw := strings.Split(name[len(prefix):], "__")
		if slicesContainEmpty(raw) {
			continue
		}
		parts, s := resolve(sections, unalias(aliases, raw), held...)
		src := "env " + name
		if !utf8.ValidString(name) {
			// Its key would not survive the trip through JSON that
			// validation takes, nor the error name where it came from.
			l.problems = append(l.problems, Problem{Path: strings.Join(parts, "."), Reason: "the variable's name is not valid UTF-8", Source: src})
			continue
		}
		v, err := convert(s, val)
		if err != nil {
			l.problems = append(l.problems, Problem{Path: strings.Join(parts, "."), Reason: err.Error(), Source: src})
			continue
		}
		l.set(parts, v, src)
	}
	return l
}

// envAtAlias reports whether the variable kv names a key through one of
// aliases.
func envAtAlias(kv, prefix string, aliases map[string]string) bool {
	name, _, _ := strings.Cut(kv, "=")
	if len(aliases) == 0 || !strings.HasPrefix(name, prefix) {
		return false
	}
	raw := strings.Split(name[len(prefix):], "__")
	return !slices.Equal(unalias(aliases, raw), raw)
}

// loadSets reads --set key=value assignments.
func loadSets(sets []string, sections map[string]*section, aliases map[string]string, held []map[string]any) (*layer, error) {
	l := newLayer()
	for _, kv := range sets {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("config: --set %q: want key=value", kv)
		}
		raw := strings.Split(strings.TrimSpace(key), ".")
		if slicesContainEmpty(raw) {
			return nil, fmt.Errorf("config: --set %q: empty key segment", kv)
		}
		parts, s := resolve(sections, unalias(aliases, raw), held...)
		src := "flag --set " + key
		if !utf8.ValidString(key) {
			l.problems = append(l.problems, Problem{Path: strings.Join(parts, "."), Reason: "the key is not valid UTF-8", Source: src})
			continue
		}
		v, err := convert(s, val)
		if err != nil {
			l.problems = append(l.problems, Problem{Path: strings.Join(parts, "."), Reason: err.Error(), Source: src})
			continue
		}
		l.set(parts, v, src)
	}
	return l, nil
}

func slicesContainEmpty(s []string) bool {
	for _, p := range s {
		if p == "" {
			return true
		}
	}
	return false
}

// loadDefaults reads the app's defaults (Options.Defaults).
func loadDefaults(defaults map[string]any, sections map[string]*section) (*layer, error) {
	l := newLayer()
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		raw := strings.Split(key, ".")
		if slicesContainEmpty(raw) {
			return nil, fmt.Errorf("config: default %q: empty key segment", key)
		}
		parts, s := resolve(sections, raw)
		if _, ok := sections[parts[0]]; !ok {
			return nil, fmt.Errorf("config: default %q: no module registered the section %q", key, parts[0])
		}
		v := defaults[key]
		if str, ok := v.(string); ok {
			var err error
			if v, err = convert(s, str); err != nil {
				l.problems = append(l.problems, Problem{Path: strings.Join(parts, "."), Reason: err.Error(), Source: "default"})
				continue
			}
		}
		l.set(parts, copyValue(v), "default")
	}
	return l, nil
}

// unalias returns raw (the segments of a key from a variable or a flag)
// with a leading alias replaced by its key; segments match ignoring case,
// "_" and "-".
func unalias(aliases map[string]string, raw []string) []string {
	for _, alias := range sortedAliases(aliases) {
		key := aliases[alias]
		a := strings.Split(alias, ".")
		if len(raw) < len(a) {
			continue
		}
		match := true
		for i := range a {
			match = match && fold(raw[i]) == fold(a[i])
		}
		if match {
			return append(strings.Split(key, "."), raw[len(a):]...)
		}
	}
	return raw
}

// unalias moves the values a file set at an alias to its key, where they
// replace what the file set there; their origins go with them.
func (l *layer) unalias(aliases map[string]string) {
	for _, alias := range sortedAliases(aliases) {
		key := aliases[alias]
		moved := map[string]string{}
		for p, o := range l.origin {
			if p == alias || strings.HasPrefix(p, alias+".") {
				moved[key+strings.TrimPrefix(p, alias)] = o
			}
		}
		v, ok := l.take(strings.Split(alias, "."))
		if !ok {
			continue
		}
		k := strings.Split(key, ".")
		l.take(k)
		l.set(k, v, "")
		forgetOrigins(l.origin, key)
		maps.Copy(l.origin, moved)
	}
}

// sortedAliases returns the aliases, longest first, so that the most
// specific one applies.
func sortedAliases(aliases map[string]string) []string {
	out := make([]string, 0, len(aliases))
	for a := range aliases {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// take removes and returns the value at the path parts, with the maps left
// empty on the way, and forgets the origins below it.
func (l *layer) take(parts []string) (any, bool) {
	var walk func(m map[string]any, parts []string) (any, bool)
	walk = func(m map[string]any, parts []string) (any, bool) {
		v, ok := m[parts[0]]
		if !ok {
			return nil, false
		}
		if len(parts) == 1 {
			delete(m, parts[0])
			return v, true
		}
		child, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		v, ok = walk(child, parts[1:])
		if ok && len(child) == 0 {
			delete(m, parts[0])
		}
		return v, ok
	}
	v, ok := walk(l.data, parts)
	if ok {
		forgetOrigins(l.origin, strings.Join(parts, "."))
	}
	return v, ok
}
