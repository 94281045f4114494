package contract

import (
	"math"
	"reflect"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// Typed proves Go values of one type valid against the schema without
// encoding them: the schema compiled along the type, so that what the type
// guarantees (a struct's keys, its fields' JSON types) costs nothing and
// only the value keywords (lengths, patterns, formats, bounds, enums, item
// counts) are checked, on the fields themselves. A value is seen as the
// encoder writes it (protocol.EncodedFields, nil pointers as null,
// time.Time as a Date). Like Checker, it only proves: false means invalid
// or not decided here. It is safe for concurrent use.
type Typed struct {
	t  reflect.Type
	fn check
}

type check func(reflect.Value) bool

// maxTypeDepth bounds the compiled type: deeper (or recursive) types are
// left to the encoded form.
const maxTypeDepth = 32

var timeType = reflect.TypeFor[time.Time]()

// ForType compiles the schema for values of type t; nil when t has a part
// it does not compile (maps, interfaces, recursion, types the encoder
// writes by a rule of their own other than time.Time) or the schema one it
// does not decide.
func (c *Checker) ForType(t reflect.Type) *Typed {
	if c == nil || t == nil {
		return nil
	}
	tc := typeCompiler{onPath: map[reflect.Type]bool{}}
	fn, ok := tc.compile(c.root, t, 0)
	if !ok {
		return nil
	}
	return &Typed{t: t, fn: fn}
}

// Valid reports whether v, a value of the compiled type, is proven valid.
func (tc *Typed) Valid(v any) bool {
	if tc == nil {
		return false
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Type() != tc.t {
		return false
	}
	return tc.fn(rv)
}

func always(reflect.Value) bool { return true }

// provesNull reports whether n proves null valid, applicators included.
func provesNull(n *node) bool {
	if n == nil {
		return true
	}
	if n.undecided || !n.null() {
		return false
	}
	for _, a := range n.all {
		if !provesNull(a) {
			return false
		}
	}
	if len(n.any) == 0 {
		return true
	}
	for _, a := range n.any {
		if provesNull(a) {
			return true
		}
	}
	return false
}

// typeCompiler compiles a schema along a type; onPath holds the types
// being compiled, so that a recursive type is refused at once instead of
// unrolled.
type typeCompiler struct{ onPath map[reflect.Type]bool }

func (c typeCompiler) compile(n *node, t reflect.Type, depth int) (check, bool) {
	if n == nil {
		return always, true
	}
	if n.undecided || depth > maxTypeDepth || c.onPath[t] {
		return nil, false
	}
	if t.Kind() == reflect.Pointer && !protocol.OwnEncoding(t) {
		nullOK := provesNull(n)
		c.onPath[t] = true
		elem, ok := c.compile(n, t.Elem(), depth+1)
		delete(c.onPath, t)
		if !ok {
			return nil, false
		}
		return func(v reflect.Value) bool {
			if v.IsNil() {
				return nullOK
			}
			return elem(v.Elem())
		}, true
	}
	own, ok := c.own(n, t, depth)
	if !ok {
		return nil, false
	}
	if len(n.all) == 0 && len(n.any) == 0 {
		return own, true
	}
	var all, anyOf []check
	for _, a := range n.all {
		f, ok := c.compile(a, t, depth+1)
		if !ok {
			return nil, false
		}
		all = append(all, f)
	}
	for _, a := range n.any {
		if f, ok := c.compile(a, t, depth+1); ok {
			anyOf = append(anyOf, f) // a branch not compiled proves nothing
		}
	}
	if len(n.any) > 0 && len(anyOf) == 0 {
		return nil, false
	}
	return func(v reflect.Value) bool {
		for _, f := range all {
			if !f(v) {
				return false
			}
		}
		if len(anyOf) > 0 {
			ok := false
			for _, f := range anyOf {
				if f(v) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		return own(v)
	}, true
}

// compileOwn compiles n's own keywords (not allOf, anyOf or $ref) for t.
func (c typeCompiler) own(n *node, t reflect.Type, depth int) (check, bool) {
	if t == timeType {
		return dateCheck(n)
	}
	if protocol.OwnEncoding(t) {
		return nil, false
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(v reflect.Value) bool {
			return n.types&tBool != 0 && n.enumOK(scalar{typ: tBool, b: v.Bool()})
		}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(v reflect.Value) bool {
			i := v.Int()
			return i <= 1<<53 && i >= -(1<<53) && n.number(float64(i), true)
		}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(v reflect.Value) bool {
			u := v.Uint()
			return u <= 1<<53 && n.number(float64(u), true)
		}, true
	case reflect.Float32, reflect.Float64:
		return func(v reflect.Value) bool {
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return n.null()
			}
			return n.number(f, f == math.Trunc(f))
		}, true
	case reflect.String:
		return func(v reflect.Value) bool { return n.str(v.String()) }, true
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return func(v reflect.Value) bool { return n.binary(v.Len()) }, true
		}
		return c.array(n, t, depth)
	case reflect.Struct:
		return c.structure(n, t, depth)
	}
	return nil, false // maps, interfaces, channels, funcs
}

// dateCheck: a time.Time is a Date (the zero time null), a date-time
// string in JSON; decided as Checker decides a Date.
func dateCheck(n *node) (check, bool) {
	return func(v reflect.Value) bool {
		var tm time.Time
		if v.CanAddr() && v.CanInterface() {
			tm = *v.Addr().Interface().(*time.Time) // Interface would copy it to the heap
		} else {
			tm = v.Interface().(time.Time)
		}
		if tm.IsZero() {
			return n.null()
		}
		if n.types&tString == 0 || n.hasEnum || n.minLen > 0 || n.maxLen >= 0 || n.pattern != nil ||
			n.format != nil && n.formatName != "date-time" {
			return false
		}
		y := tm.UTC().Year()
		return y >= 1970 && y <= 9999 // before 1970 a Date cannot be encoded
	}, true
}

func (c typeCompiler) array(n *node, t reflect.Type, depth int) (check, bool) {
	if len(n.prefix) > 0 || n.unique {
		return nil, false
	}
	c.onPath[t] = true
	item, ok := c.compile(n.items, t.Elem(), depth+1)
	delete(c.onPath, t)
	if !ok {
		return nil, false
	}
	return func(v reflect.Value) bool {
		if n.types&tArray == 0 || n.hasEnum {
			return false
		}
		l := v.Len()
		if l < n.minItems || n.maxItems >= 0 && l > n.maxItems {
			return false
		}
		for i := range l {
			if !item(v.Index(i)) {
				return false
			}
		}
		return true
	}, true
}

type typedField struct {
	f      protocol.EncodedField
	direct int    // f's index in the struct when it is always written (f.Direct), else -1
	check  check  // nil: the key may not be there (additionalProperties: false)
	bit    uint64 // its bit in the required mask
}

func (c typeCompiler) structure(n *node, t reflect.Type, depth int) (check, bool) {
	if n.types&tObject == 0 || n.hasEnum {
		return nil, false
	}
	c.onPath[t] = true
	defer delete(c.onPath, t)
	var fields []typedField
	var covered uint64
	for _, f := range protocol.EncodedFields(t) {
		tf := typedField{f: f, direct: -1}
		if i, ok := f.Direct(); ok {
			tf.direct = i
		}
		i, known := n.props[f.Name]
		if known {
			tf.bit = n.reqBit[i]
			covered |= tf.bit
		}
		var sn *node
		switch {
		case known && n.propNode[i] != nil:
			sn = n.propNode[i]
		case n.addlNone:
		default:
			sn = n.addl
		}
		if sn != nil || !n.addlNone {
			fn, ok := c.compile(sn, f.Type, depth+1)
			if !ok {
				return nil, false
			}
			tf.check = fn
		}
		fields = append(fields, tf)
	}
	if covered != n.reqMask {
		return nil, false // a required key no field writes: never valid
	}
	return func(v reflect.Value) bool {
		var present uint64
		for i := range fields {
			tf := &fields[i]
			var fv reflect.Value
			if tf.direct >= 0 {
				fv = v.Field(tf.direct) // what Value would return, without its walk
			} else {
				var written bool
				if fv, written = tf.f.Value(v); !written {
					continue
				}
			}
			if tf.check == nil || !tf.check(fv) {
				return false
			}
			present |= tf.bit
		}
		return present == n.reqMask
	}, true
}
