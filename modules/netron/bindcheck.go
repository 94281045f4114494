package netron

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// boundField is one func field of a client struct (see BindFunc).
type boundField struct {
	name   string       // Go field name
	method string       // wire name
	typ    reflect.Type // the func type
}

// clientFields reads the func fields of client, a pointer to a struct, and
// checks their shapes.
func clientFields(client any) (reflect.Value, []boundField, error) {
	v := reflect.ValueOf(client)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil, fmt.Errorf("netron: Bind needs a pointer to a struct of func fields, got %T", client)
	}
	v = v.Elem()
	t := v.Type()
	var fields []boundField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Tag.Get("netron")
		if name == "-" {
			continue
		}
		if name == "" {
			name = WireName(f.Name)
		}
		if err := clientShape(f.Type); err != nil {
			return reflect.Value{}, nil, fmt.Errorf("netron: Bind %s: field %s: %w", t, f.Name, err)
		}
		fields = append(fields, boundField{name: f.Name, method: name, typ: f.Type})
	}
	return v, fields, nil
}

// clientShape checks that ft is the func type of a client field.
func clientShape(ft reflect.Type) error {
	if ft.Kind() != reflect.Func || ft.NumIn() < 1 || ft.In(0) != contextType || ft.IsVariadic() {
		return fmt.Errorf("want a func whose first argument is a context.Context, got %v", ft)
	}
	if !rpcResults(ft) {
		return fmt.Errorf("want (T, error), error or iter.Seq2[T, error] results, got %v", ft)
	}
	return nil
}

// CheckClient checks client, a pointer to a struct of func fields as
// [Peer.Bind] takes, against the definition of target on the peer (one
// query_interface): a field for a method the service lacks, a stream field
// for a unary method or the reverse, a result field for a method that
// returns nothing, a field passing more or fewer arguments than the method
// takes, and an argument or result whose Go type cannot hold the JSON type
// of the method's contract are errors, each naming the field. What the
// definition does not say (a TypeScript server publishes no contracts) is
// not checked. A compatible JSON type is enough: a float64 field for an
// "integer" contract passes; fields are not checked member by member.
func (p *Peer) CheckClient(ctx context.Context, target string, client any) error {
	_, err := p.checkClient(ctx, target, client)
	return err
}

// checkClient is CheckClient, returning the definition it checked
// against.
func (p *Peer) checkClient(ctx context.Context, target string, client any) (*protocol.Definition, error) {
	v, fields, err := clientFields(client)
	if err != nil {
		return nil, err
	}
	t, err := p.n.targets.parse(target)
	if err != nil {
		return nil, err
	}
	var c *conn
	if p.calls == nil {
		if c, err = p.conn(); err != nil {
			return nil, fmt.Errorf("netron: Bind %s: %w", v.Type(), err)
		}
	}
	ctx, cancel := p.withTimeout(ctx)
	defer cancel()
	def, err := p.definitionFor(ctx, c, t)
	if err != nil {
		return nil, fmt.Errorf("netron: Bind %s: %w", v.Type(), err)
	}
	return def, checkFields(v.Type(), fields, def)
}

// definitionFor asks the peer for the definition of t: as given to a Go
// server, by its bare name to others (which resolve names only), the
// version then checked here.
func (p *Peer) definitionFor(ctx context.Context, c *conn, t Target) (*protocol.Definition, error) {
	ask := t.String()
	if c != nil && !c.ext.Load() { // a door (c nil) is a Go gateway's
		ask = t.Name
	}
	def, err := p.Definition(ctx, ask)
	if err != nil {
		return nil, err
	}
	if version := def.MetaString("version"); !t.Matches(version) {
		return nil, Errorf(CodeNotFound, "service %s: the peer has version %s, which does not match", t, version)
	}
	return def, nil
}

// checkFields checks fields against the methods of a definition.
func checkFields(st reflect.Type, fields []boundField, def *protocol.Definition) error {
	meta, _ := def.Meta.(protocol.Object)
	qualified := QualifiedName(objString(meta, "name"), objString(meta, "version"))
	mv, _ := meta.Get("methods")
	methods, _ := mv.(protocol.Object)
	have := make([]string, len(methods))
	for i, f := range methods {
		have[i] = f.Key
	}
	slices.Sort(have)
	var problems []string
	for _, f := range fields {
		entry, ok := methods.Get(f.method)
		if !ok {
			problems = append(problems, "field "+f.name+": "+MethodNotFound(qualified, f.method, have).Message())
			continue
		}
		mo, _ := entry.(protocol.Object)
		if why := checkField(f, qualified+"."+f.method, mo); why != "" {
			problems = append(problems, "field "+f.name+": "+why)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("netron: Bind %s to %s: %s", st, qualified, strings.Join(problems, "; "))
	}
	return nil
}

// checkField says what is wrong with a field for the method of a
// definition entry (NETRON-WIRE.md §7.2 with Titan's "stream",
// "inputSchema" and "outputSchema"), or "".
func checkField(f boundField, what string, entry protocol.Object) string {
	ft := f.typ
	item, fieldStreams := isStreamType(ft.Out(0))
	if s, ok := entry.Get("stream"); ok {
		switch streams, _ := s.(bool); {
		case streams && !fieldStreams:
			return what + " is a stream method: want func(ctx, ...) iter.Seq2[T, error]"
		case !streams && fieldStreams:
			return what + " is not a stream method: want func(ctx, ...) (T, error) or error"
		}
	}
	out := schemaOf(entry, "outputSchema")
	if ft.NumOut() == 2 && out == nil && objString(entry, "type") == "void" {
		return what + " returns nothing: want func(ctx, ...) error"
	}
	if in := schemaOf(entry, "inputSchema"); in != nil {
		args := make([]reflect.Type, ft.NumIn()-1)
		for i := range args {
			args[i] = ft.In(i + 1)
		}
		if why := checkArgs(what, args, in); why != "" {
			return why
		}
	}
	result := item
	if !fieldStreams && ft.NumOut() == 2 {
		result = ft.Out(0)
	}
	if result != nil && out != nil && !kindsMeet(goKinds(result), schemaKinds(out)) {
		return fmt.Sprintf("the result type %v cannot hold what %s returns (its contract says %s)", result, what, kindList(schemaKinds(out)))
	}
	return ""
}

// checkArgs checks a field's argument types against a tuple input schema.
func checkArgs(what string, args []reflect.Type, in map[string]any) string {
	items, _ := in["prefixItems"].([]any)
	minN, hasMin := jsonInt(in["minItems"])
	maxN, hasMax := jsonInt(in["maxItems"])
	if hasMin && len(args) < minN || hasMax && len(args) > maxN {
		takes := plural(maxN, "argument")
		if !hasMax || minN != maxN {
			takes = fmt.Sprintf("%d to %d arguments", minN, maxN)
			if !hasMax {
				takes = fmt.Sprintf("at least %s", plural(minN, "argument"))
			}
		}
		sig := make([]string, len(items))
		for i, it := range items {
			im, _ := it.(map[string]any)
			sig[i] = cmp.Or(schemaKind(im), "any")
			if title, _ := im["title"].(string); title != "" {
				sig[i] = title + ": " + sig[i]
			}
		}
		if len(sig) > 0 {
			takes += " (" + strings.Join(sig, ", ") + ")"
		}
		return fmt.Sprintf("%s takes %s, the field passes %d", what, takes, len(args))
	}
	for i, a := range args {
		if i >= len(items) {
			break
		}
		im, _ := items[i].(map[string]any)
		if want := schemaKinds(im); !kindsMeet(goKinds(a), want) {
			label := fmt.Sprintf("argument %d", i+1)
			if title, _ := im["title"].(string); title != "" {
				label += " (" + title + ")"
			}
			return fmt.Sprintf("%s: Go type %v cannot carry what %s takes (its contract says %s)", label, a, what, kindList(want))
		}
	}
	return ""
}

// schemaOf returns a definition entry's schema under key as JSON, or nil.
func schemaOf(entry protocol.Object, key string) map[string]any {
	v, ok := entry.Get(key)
	if !ok {
		return nil
	}
	j, err := protocol.ToJSON(v)
	if err != nil {
		return nil
	}
	m, _ := j.(map[string]any)
	return m
}

// jsonInt reads a whole JSON number.
func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return int(i), err == nil
}

// kindSet is a set of JSON types ("number" stands for integers too); nil
// means any.
type kindSet map[string]bool

// kindsMeet reports whether a value could be of both sets.
func kindsMeet(a, b kindSet) bool {
	if a == nil || b == nil {
		return true
	}
	for k := range a {
		if b[k] {
			return true
		}
	}
	return false
}

func kindList(k kindSet) string {
	if k == nil {
		return "any value"
	}
	names := make([]string, 0, len(k))
	for n := range k {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, " or ")
}

// schemaKinds is the set of JSON types a schema accepts, nil when it does
// not restrict them.
func schemaKinds(s map[string]any) kindSet {
	if s == nil {
		return nil
	}
	set := kindSet{}
	switch t := s["type"].(type) {
	case string:
		set[normKind(t)] = true
		return set
	case []any:
		for _, n := range t {
			if n, ok := n.(string); ok {
				set[normKind(n)] = true
			}
		}
		return set
	}
	for _, key := range []string{"anyOf", "oneOf"} {
		branches, _ := s[key].([]any)
		if len(branches) == 0 {
			continue
		}
		for _, b := range branches {
			bm, _ := b.(map[string]any)
			k := schemaKinds(bm)
			if k == nil {
				return nil
			}
			for n := range k {
				set[n] = true
			}
		}
		return set
	}
	if c, ok := s["const"]; ok {
		set[jsonKindOf(c)] = true
		return set
	}
	if e, ok := s["enum"].([]any); ok {
		for _, v := range e {
			set[jsonKindOf(v)] = true
		}
		return set
	}
	return nil
}

func normKind(k string) string {
	if k == "integer" {
		return "number"
	}
	return k
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	durType     = reflect.TypeFor[time.Duration]()
	unmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// goKinds is the set of JSON types a value of t can be decoded from (and
// encoded to), nil for any.
func goKinds(t reflect.Type) kindSet {
	null := false
	for t.Kind() == reflect.Pointer {
		t, null = t.Elem(), true
	}
	var set kindSet
	switch {
	case t == rawMessageType || t == durType || reflect.PointerTo(t).Implements(unmarshaler):
		return nil // its own decoding
	case t == timeType:
		set = kindSet{"string": true}
	case t == bigIntType:
		set = kindSet{"number": true}
	case jsonObjectType[t] || t == longType:
		set = kindSet{"object": true}
	default:
		switch t.Kind() {
		case reflect.Interface:
			return nil
		case reflect.Bool:
			set = kindSet{"boolean": true}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
			reflect.Float32, reflect.Float64:
			set = kindSet{"number": true}
		case reflect.String:
			set = kindSet{"string": true}
		case reflect.Slice:
			if t.Elem().Kind() == reflect.Uint8 {
				return nil // binary data: a Buffer, bytes or a string
			}
			set = kindSet{"array": true, "null": true}
		case reflect.Array:
			set = kindSet{"array": true}
		case reflect.Map:
			set = kindSet{"object": true, "null": true}
		case reflect.Struct:
			set = kindSet{"object": true}
		default:
			return nil
		}
	}
	if null {
		set["null"] = true
	}
	return set
}

// objString returns the string under key of an Object, or "".
func objString(v any, key string) string {
	if o, ok := v.(protocol.Object); ok {
		if s, ok := o.Get(key); ok {
			str, _ := s.(string)
			return str
		}
	}
	return ""
}
