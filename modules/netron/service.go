package netron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/invopop/jsonschema"

	"github.com/titanframework/titan/internal/schema"
	"github.com/titanframework/titan/modules/netron/internal/contract"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// methodKind is the shape of a public method.
type methodKind uint8

const (
	kindUnary  methodKind = iota // func(ctx, args...) (T, error)
	kindVoid                     // func(ctx, args...) error
	kindStream                   // func(ctx, args...) iter.Seq2[T, error]
)

func (k methodKind) String() string {
	return [...]string{"unary", "void", "stream"}[k]
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// method is one public method of a service, ready to be called.
type method struct {
	name   string // wire name
	goName string
	kind   methodKind
	fn     reflect.Value // the method expression: receiver first, then ctx
	recv   reflect.Value // the receiver
	fast   fastInvoker   // the reflection-free call of a common shape, or nil
	// fastStream is a stream method's reflection-free call (a MethodFunc),
	// or nil.
	fastStream streamInvoker
	args       []reflect.Type // argument types after ctx
	out        reflect.Type   // result (unary) or item (stream) type; nil for void

	inSchema  json.RawMessage // tuple schema of the arguments
	outSchema json.RawMessage // schema of the result or of each stream item; nil for void
	inV, outV *schema.Validator
	// inC and outC prove values valid in their encoded form, without
	// decoding them (package contract); what they do not prove, inV and
	// outV decide and explain.
	inC, outC *contract.Checker
	// outT proves results (stream items) valid on the Go value, without
	// encoding it, where the result type allows (contract.Typed).
	outT *contract.Typed
	// inByType and outByType are set when the Go types alone enforce the
	// derived contract (predeclared scalar types): decoding into them, or
	// returning them, already guarantees the schema, so validation skips
	// the JSON round trip.
	inByType, outByType bool
	// inDerived and outDerived are set when the contract is derived from
	// the Go types (no titan.Contract): binary data is checked in its
	// compact form then (protocol.ToJSONForContract).
	inDerived, outDerived bool
	// binArgs are the []byte arguments: the decoder also turns strings and
	// arrays into bytes, so they keep the contract by type only when they
	// are MessagePack binary data.
	binArgs []int

	argInfo []argInfo // what messages say of each argument

	cacheTTL   time.Duration // 0 = not cached
	idempotent bool          // WithIdempotent
	opts       []MethodOption
	extensions map[string]any // WithMethodExtension

	spec MethodSpec // the public view of the method, pointing back at it
	svc  *service   // the service the method belongs to
}

// service is one registered service instance.
type service struct {
	name, version string
	qualified     string
	defID         string
	impl          any
	methods       map[string]*method
	order         []string          // wire names, sorted
	transports    []string          // listener names it is restricted to; nil = all
	namedBy       map[string]string // the Transports option that named each of transports
	extensions    map[string]any    // WithExtension
	meta          any               // definition metadata sent on the wire
	notExposed    []string          // exported methods not exposed, and why (see methodShape)
}

// isStreamType reports whether t is iter.Seq2[T, error] and returns T.
func isStreamType(t reflect.Type) (reflect.Type, bool) {
	if t.Kind() != reflect.Func || t.NumIn() != 1 || t.NumOut() != 0 {
		return nil, false
	}
	yield := t.In(0)
	if yield.Kind() != reflect.Func || yield.NumIn() != 2 || yield.NumOut() != 1 ||
		yield.In(1) != errorType || yield.Out(0).Kind() != reflect.Bool {
		return nil, false
	}
	// Named iter.Seq2 or an identical func type: both are assignable.
	item := yield.In(0)
	return item, true
}

// reflectMethods finds the public methods of impl: exported methods whose
// first argument is a context.Context and that return (T, error), error, or
// iter.Seq2[T, error]. notExposed says, for each other exported method that
// looks meant to be public, why it is not (see methodShape). A
// context.Context after the first argument is an error.
func reflectMethods(impl any) (out []*method, notExposed []string, err error) {
	v := reflect.ValueOf(impl)
	t := v.Type()
	seen := map[string]string{}
	publicTypes := map[string]reflect.Type{}
	var errs []error
	for i := range t.NumMethod() {
		m := t.Method(i)
		if !m.IsExported() {
			continue
		}
		mt := v.Method(i).Type() // the bound method's: without the receiver
		public, why, err := methodShape(m.Name, mt)
		if err != nil {
			errs = append(errs, err)
		}
		if why != "" {
			notExposed = append(notExposed, why)
		}
		if !public {
			continue
		}
		publicTypes[m.Name] = mt
		ft := m.Type // includes the receiver
		md := &method{name: WireName(m.Name), goName: m.Name, fn: m.Func, recv: v}
		md.spec.m = md
		for j := 2; j < ft.NumIn(); j++ {
			md.args = append(md.args, ft.In(j))
		}
		switch {
		case ft.NumOut() == 2:
			md.kind, md.out = kindUnary, ft.Out(0)
		case ft.Out(0) == errorType:
			md.kind = kindVoid
		default:
			md.out, _ = isStreamType(ft.Out(0))
			md.kind = kindStream
		}
		if other, dup := seen[md.name]; dup {
			errs = append(errs, fmt.Errorf("methods %s and %s both map to the wire name %q", other, m.Name, md.name))
		}
		seen[md.name] = m.Name
		out = append(out, md)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	funcs, err := methodFuncsOf(impl, publicTypes)
	if err != nil {
		return nil, nil, err
	}
	for _, md := range out {
		if f, ok := funcs[md.goName]; ok {
			// The service's own func value: no reflection on the call.
			md.fast, md.fastStream = f.inv, f.stream
		} else {
			md.fast = fastInvokerFor(v, md.goName)
		}
	}
	return out, notExposed, nil
}

// tupleSchema is the input contract: the positional arguments as a tuple,
// each titled with its name when names are given (WithArgs).
func tupleSchema(args []reflect.Type, names []string) *jsonschema.Schema {
	n := uint64(len(args))
	s := &jsonschema.Schema{
		Version:  "https://json-schema.org/draft/2020-12/schema",
		Type:     "array",
		Items:    jsonschema.FalseSchema,
		MinItems: &n,
		MaxItems: &n,
	}
	for i, a := range args {
		as := schema.ReflectValues(a, wireSchema)
		as.Version = ""
		if i < len(names) {
			as.Title = names[i]
		}
		s.PrefixItems = append(s.PrefixItems, as)
	}
	return s
}

var (
	bigIntType     = reflect.TypeFor[big.Int]()
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	longType       = reflect.TypeFor[protocol.Long]()
	jsonObjectType = map[reflect.Type]bool{
		reflect.TypeFor[protocol.Map](): true, reflect.TypeFor[protocol.Set](): true, reflect.TypeFor[protocol.RegExp](): true,
	}
)

// wireSchema gives the schemas of the types whose JSON form (NETRON-WIRE.md
// §11.1, which contracts are checked against) is not what their Go
// structure suggests: a BigInt is an integer, binary data a Node Buffer
// object, Map, Set and RegExp an empty object, a Long its long.js fields,
// a time.Time a date-time string or, when zero, null.
func wireSchema(t reflect.Type) *jsonschema.Schema {
	switch {
	case t == bigIntType:
		return &jsonschema.Schema{Type: "integer"}
	case t == timeType:
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{{Type: "string", Format: "date-time"}, {Type: "null"}}}
	case t == longType:
		props := jsonschema.NewProperties()
		props.Set("low", &jsonschema.Schema{Type: "integer"})
		props.Set("high", &jsonschema.Schema{Type: "integer"})
		props.Set("unsigned", &jsonschema.Schema{Type: "boolean"})
		return &jsonschema.Schema{Type: "object", Properties: props, Required: []string{"low", "high", "unsigned"}}
	case jsonObjectType[t]:
		return &jsonschema.Schema{Type: "object"}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && t != rawMessageType:
		return schema.BufferSchema()
	}
	return intRange(t)
}

// ownSchemaMethod is the method through which a type gives its own schema.
var ownSchemaMethod = reflect.TypeFor[interface{ JSONSchema() *jsonschema.Schema }]()

// intRange gives an integer type narrower than 64 bits, or unsigned, the
// range of its values (uint8: 0 to 255), so that the contract says what
// the decoder enforces and a value out of range is named by its pointer;
// nil for other types and for one that gives its own schema.
func intRange(t reflect.Type) *jsonschema.Schema {
	if t.Implements(ownSchemaMethod) || reflect.PointerTo(t).Implements(ownSchemaMethod) {
		return nil
	}
	var lo, hi int64
	switch t.Kind() {
	case reflect.Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case reflect.Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case reflect.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case reflect.Uint8:
		hi = math.MaxUint8
	case reflect.Uint16:
		hi = math.MaxUint16
	case reflect.Uint32:
		hi = math.MaxUint32
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return &jsonschema.Schema{Type: "integer", Minimum: "0"}
	default:
		return nil
	}
	return &jsonschema.Schema{Type: "integer", Minimum: json.Number(strconv.FormatInt(lo, 10)), Maximum: json.Number(strconv.FormatInt(hi, 10))}
}

// buildContracts derives (or takes from contracts) each method's schemas
// and compiles them; names are the argument names of WithArgs, or nil.
func (m *method) buildContracts(c *Contract, names []string) error {
	var err error
	if names != nil && c != nil && c.In != nil {
		return fmt.Errorf("Args(%s): the method has an explicit input contract (Contract): name the arguments there, as the \"title\" of each prefixItems entry", quoted(names))
	}
	m.inByType = c == nil || c.In == nil
	m.inDerived, m.outDerived = c == nil || c.In == nil, c == nil || c.Out == nil
	for _, a := range m.args {
		m.inByType = m.inByType && scalarType(a)
	}
	m.outByType = (c == nil || c.Out == nil) && m.out != nil && scalarType(m.out)
	for i, a := range m.args {
		if a.Kind() == reflect.Slice {
			m.binArgs = append(m.binArgs, i)
		}
	}
	if c != nil && c.In != nil {
		m.inSchema = c.In
	} else {
		for _, a := range m.args {
			if err := schema.CheckType(a); err != nil {
				return fmt.Errorf("input schema: %w%s", err, schemaHint(err, a))
			}
			if err := checkWireForm(a); err != nil {
				return fmt.Errorf("input schema: %w", err)
			}
		}
		if m.inSchema, err = json.Marshal(tupleSchema(m.args, names)); err != nil {
			return fmt.Errorf("input schema: %w", err)
		}
	}
	if m.inV, err = schema.Compile(m.inSchema); err != nil {
		return fmt.Errorf("input schema: %w", err)
	}
	if m.inC, err = contract.Compile(m.inSchema); err != nil {
		return fmt.Errorf("input schema: %w", err)
	}
	m.argInfo = argInfos(m.inSchema, m.args)
	if m.kind == kindVoid {
		return nil
	}
	if c != nil && c.Out != nil {
		m.outSchema = c.Out
	} else if err = checkWireForm(m.out); err != nil {
		return fmt.Errorf("output schema: %w", err)
	} else if m.outSchema, err = schema.ReflectValuesJSON(m.out, wireSchema); err != nil {
		return fmt.Errorf("output schema: %w%s", err, schemaHint(err, m.out))
	}
	if m.outV, err = schema.Compile(m.outSchema); err != nil {
		return fmt.Errorf("output schema: %w", err)
	}
	if m.outC, err = contract.Compile(m.outSchema); err != nil {
		return fmt.Errorf("output schema: %w", err)
	}
	m.outT = m.outC.ForType(m.out)
	return nil
}

// jsType names a Go type the way the TypeScript metadata names types
// (NETRON-WIRE.md §7.2); no client interprets these names.
func jsType(t reflect.Type) string {
	if t == nil {
		return "void"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "Boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "Number"
	case reflect.String:
		return "String"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "Buffer"
		}
		return "Array"
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "Date"
		}
		if t.Name() != "" {
			return t.Name()
		}
	case reflect.Interface:
		return "unknown"
	}
	return "Object"
}

// newService builds a service from its implementation and options.
func newService(name, version string, impl any, opts ...ServiceOption) (*service, error) {
	if err := ValidateServiceName(name); err != nil {
		return nil, err
	}
	if err := ValidateVersion(version); err != nil {
		return nil, err
	}
	if impl == nil {
		return nil, fmt.Errorf("netron: service %s@%s: nil implementation", name, version)
	}
	var cfg serviceConfig
	for i, o := range opts {
		if o == nil {
			cfg.errs = append(cfg.errs, fmt.Errorf("option %d is nil", i+1))
			continue
		}
		o.applyService(&cfg)
	}
	if err := errors.Join(cfg.errs...); err != nil {
		return nil, fmt.Errorf("netron: service %s@%s: %w", name, version, err)
	}
	methods, notExposed, err := reflectMethods(impl)
	if err != nil {
		return nil, fmt.Errorf("netron: service %s@%s: %w", name, version, err)
	}
	s := &service{
		name: name, version: version, qualified: QualifiedName(name, version),
		defID: newDefinitionID(), impl: impl, methods: map[string]*method{},
		transports: cfg.transports, namedBy: cfg.namedBy, extensions: cfg.extensions, notExposed: notExposed,
	}
	for _, m := range methods {
		m.svc = s
		s.methods[m.name] = m
		s.order = append(s.order, m.name)
	}
	sort.Strings(s.order)
	if len(s.methods) == 0 {
		why := ""
		if len(notExposed) > 0 {
			why = ": " + strings.Join(notExposed, "; ")
		}
		return nil, fmt.Errorf("netron: service %s: %T has no public methods%s (%s)", s.qualified, impl, why, acceptedShapes)
	}
	for name := range cfg.contracts {
		if s.methods[name] == nil {
			return nil, fmt.Errorf("netron: service %s: titan.Contract(%q): no such public method (have %s)", s.qualified, name, strings.Join(s.order, ", "))
		}
	}
	for name, mopts := range cfg.methods {
		m := s.methods[name]
		if m == nil {
			return nil, fmt.Errorf("netron: service %s: Method(%q): no such public method (have %s)", s.qualified, name, strings.Join(s.order, ", "))
		}
		m.opts = mopts
	}
	for _, name := range s.order {
		m := s.methods[name]
		if m.kind == kindUnary {
			m.cacheTTL = cfg.cacheTTL // the service default applies to unary methods
		}
		var mc methodConfig
		for i, o := range m.opts {
			if o == nil {
				mc.errs = append(mc.errs, fmt.Errorf("option %d is nil", i+1))
				continue
			}
			o.applyMethod(&mc)
		}
		if err := errors.Join(mc.errs...); err != nil {
			return nil, fmt.Errorf("netron: service %s: Method(%q): %w", s.qualified, name, err)
		}
		if mc.args != nil && len(mc.args) != len(m.args) {
			return nil, fmt.Errorf("netron: service %s: Method(%q): Args(%s) names %s, but %s takes %s",
				s.qualified, name, quoted(mc.args), plural(len(mc.args), "argument"), m.goName, plural(len(m.args), "argument"))
		}
		if mc.cacheTTL != nil {
			m.cacheTTL = *mc.cacheTTL
		}
		m.idempotent = mc.idempotent
		m.extensions = mc.extensions
		if m.cacheTTL > 0 && m.kind != kindUnary {
			return nil, fmt.Errorf("netron: service %s: method %s: only unary methods with a result can be cached (it is %s)", s.qualified, name, m.kind)
		}
		if err := m.buildContracts(cfg.contracts[name], mc.args); err != nil {
			return nil, fmt.Errorf("netron: service %s: method %s: %w", s.qualified, name, err)
		}
	}
	s.meta = s.metadata()
	return s, nil
}

// Seq2 is the iterator type of stream methods, iter.Seq2[T, error].
//
// Deprecated: write iter.Seq2[T, error]; a second name for the standard
// type only hid it. The alias stays until the next minor release.
type Seq2[T any] = iter.Seq2[T, error]

// scalarType reports whether t is a predeclared bool, number or string type,
// whose derived schema ("boolean", "integer", "number", "string", with no
// constraints) any value of t satisfies and any decodable input matches.
func scalarType(t reflect.Type) bool {
	if t.PkgPath() != "" { // named types may carry schema methods or tags
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice: // []byte: decoding takes only binary data
		return t.Elem().Kind() == reflect.Uint8 && t.Elem().PkgPath() == ""
	}
	return false
}

// schemaHint says how to mend a type with no derived schema: a contract
// for a recursive type; for a stream's iterator returned beside an error,
// the stream method's shape; nothing for values no contract can carry.
func schemaHint(err error, t reflect.Type) string {
	if !errors.Is(err, schema.ErrNoJSONForm) {
		return " (WithContract gives one)"
	}
	if _, ok := isStreamType(t); ok {
		return " (a stream method returns its iter.Seq2[T, error] alone, without an error result)"
	}
	return ""
}
