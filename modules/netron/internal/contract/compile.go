// Package contract checks encoded Netron values against JSON Schema
// contracts without decoding them: a schema is compiled once into a tree
// of nodes, and a value is walked token by token in its MessagePack form
// (protocol.Scanner), with no allocation.
//
// A Checker only proves validity. It answers true when the value
// satisfies the schema under the JSON mapping of NETRON-WIRE.md §11.1 (the
// form the general validator, santhosh-tekuri/jsonschema, is given), and
// false otherwise: the value is invalid, or it uses something the checker
// does not decide (a keyword such as oneOf or patternProperties, a format
// it does not know, an extension type, a number beyond 2^53 against a
// bound). The caller then asks the general validator, which decides and
// names every failing JSON pointer. So a true answer must never differ
// from the general validator's (the differential tests hold it to that),
// while a false answer only costs time.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
)

// The JSON types of a value, as a bit set.
const (
	tNull uint8 = 1 << iota
	tBool
	tInteger // an integral number; "number" sets it too
	tNumber  // a number that is not integral
	tString
	tArray
	tObject
	tAny = tNull | tBool | tInteger | tNumber | tString | tArray | tObject
)

// node is one compiled schema.
type node struct {
	undecided bool  // the checker cannot prove any value valid here
	types     uint8 // the types allowed

	// strings
	minLen, maxLen int // code points; maxLen < 0: none
	pattern        *pattern
	format         func(s string) bool // proves the format, or nil
	formatName     string

	// numbers
	min, max         float64 // bounds, when hasMin / hasMax
	hasMin, hasMax   bool
	exclMin, exclMax bool
	// minJSON, maxJSON: the bound's shortest decimal (the JSON form of a
	// value equal to it) is the bound itself; when not, a value equal to
	// the bound is left to the validator.
	minJSON, maxJSON bool
	multipleOf       int64 // 0: none

	// enum and const: the value must equal one of them
	enum    []scalar
	hasEnum bool

	// arrays
	prefix             []*node
	items              *node // nil: any
	minItems, maxItems int   // maxItems < 0: none
	unique             bool
	bytesOK            [4]uint64 // items accepting each integer 0..255, for binary data

	// objects
	props    map[string]int // property name -> index in propNodes
	propList []string
	propNode []*node
	reqBit   []uint64 // per property: its bit in the required mask, or 0
	reqMask  uint64
	addl     *node // additionalProperties; nil: any
	addlNone bool  // additionalProperties: false

	all []*node // allOf, and $ref
	any []*node // anyOf
}

// scalar is a value of an enum or const.
type scalar struct {
	typ uint8 // tNull, tBool, tInteger (any number), tString
	b   bool
	f   float64
	// fJSON: f's shortest decimal is f itself (see shortestIsExact); a
	// number equal to f is left to the validator when not.
	fJSON bool
	s     string // enum and const
	p     []byte // items compared for uniqueItems
}

var undecided = &node{undecided: true}

// Checker proves encoded values valid against one schema; see the package
// documentation. It is safe for concurrent use.
type Checker struct{ root *node }

// Compile compiles a JSON Schema document of draft 2020-12 (the default of
// Netron's contracts). It fails only when the document is not JSON; the
// parts it cannot decide compile to nodes that never prove a value.
func Compile(doc []byte) (*Checker, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("contract: the schema is not JSON: %w", err)
	}
	c := compiler{root: v, refs: map[string]*node{}, resolving: map[string]int{}}
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["$schema"]; ok && s != "https://json-schema.org/draft/2020-12/schema" {
			return &Checker{root: undecided}, nil
		}
	}
	return &Checker{root: c.node(v, 0)}, nil
}

type compiler struct {
	root any
	refs map[string]*node
	// resolving holds the references being compiled, each with the
	// number of descents (into an item or a property) on the way to it;
	// descents is that number where the compiler is.
	resolving map[string]int
	descents  int
}

// maxSchemaDepth bounds the compiled tree (a $ref cycle is compiled once).
const maxSchemaDepth = 64

// annotations are keywords that assert nothing.
var annotations = map[string]bool{
	"$schema": true, "$comment": true, "$defs": true, "definitions": true,
	"title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
	"contentEncoding": true, "contentMediaType": true, "contentSchema": true,
}

// asserting are the other keywords of draft 2020-12 and of earlier drafts
// that santhosh-tekuri/jsonschema may apply: a schema using one that this
// package does not compile is undecided.
var asserting = map[string]bool{
	"$id": true, "$anchor": true, "$dynamicRef": true, "$dynamicAnchor": true,
	"$recursiveRef": true, "$recursiveAnchor": true, "$vocabulary": true,
	"oneOf": true, "not": true, "if": true, "then": true, "else": true,
	"contains": true, "minContains": true, "maxContains": true,
	"patternProperties": true, "propertyNames": true,
	"minProperties": true, "maxProperties": true,
	"dependentRequired": true, "dependentSchemas": true, "dependencies": true,
	"unevaluatedItems": true, "unevaluatedProperties": true, "additionalItems": true,
}

func (c *compiler) node(v any, depth int) *node {
	switch v := v.(type) {
	case bool:
		if v {
			return &node{types: tAny, maxLen: -1, maxItems: -1}
		}
		return &node{types: 0, maxLen: -1, maxItems: -1}
	case map[string]any:
		if depth > maxSchemaDepth {
			return undecided
		}
		return c.object(v, depth)
	}
	return undecided // not a schema: the general validator refused it already
}

func (c *compiler) object(m map[string]any, depth int) *node {
	n := &node{types: tAny, maxLen: -1, maxItems: -1}
	for k, v := range m {
		if annotations[k] {
			continue
		}
		if asserting[k] {
			if k == "$id" && depth == 0 {
				continue
			}
			return undecided
		}
		if !c.keyword(n, k, v, m, depth) {
			return undecided
		}
	}
	if n.items != nil {
		n.bytesOK = bytesAccepted(n.items)
	} else {
		n.bytesOK = [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	}
	return n
}

// keyword compiles one keyword into n; false when it cannot.
func (c *compiler) keyword(n *node, k string, v any, m map[string]any, depth int) bool {
	switch k {
	case "type":
		t, ok := typeSet(v)
		n.types &= t
		return ok
	case "enum":
		list, ok := v.([]any)
		if !ok || n.hasEnum { // with const as well: both must hold, left to the validator
			return false
		}
		n.hasEnum = true
		for _, e := range list {
			s, ok := scalarOf(e)
			if !ok {
				return false
			}
			n.enum = append(n.enum, s)
		}
		return true
	case "const":
		s, ok := scalarOf(v)
		if !ok {
			return false
		}
		if n.hasEnum { // both: the value must equal the const and be in the enum
			return false
		}
		n.hasEnum, n.enum = true, []scalar{s}
		return true
	case "minLength", "maxLength", "minItems", "maxItems":
		i, ok := count(v)
		if !ok {
			return false
		}
		switch k {
		case "minLength":
			n.minLen = i
		case "maxLength":
			n.maxLen = i
		case "minItems":
			n.minItems = i
		default:
			n.maxItems = i
		}
		return true
	case "pattern":
		s, ok := v.(string)
		if !ok {
			return false
		}
		re, err := compilePattern(s)
		if err != nil {
			return false
		}
		n.pattern = re
		return true
	case "format":
		s, ok := v.(string)
		if !ok {
			return false
		}
		f, known := formats[s]
		if !known {
			if unprovable[s] {
				return false
			}
			return true // the general validator ignores formats it does not know
		}
		n.format, n.formatName = f, s
		return true
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		f, ok := exactFloat(v)
		if !ok {
			return false
		}
		switch k {
		case "minimum", "exclusiveMinimum":
			if n.hasMin { // both bounds on one side: left to the validator
				return false
			}
			n.min, n.hasMin, n.exclMin, n.minJSON = f, true, k == "exclusiveMinimum", shortestIsExact(f)
		default:
			if n.hasMax { // likewise
				return false
			}
			n.max, n.hasMax, n.exclMax, n.maxJSON = f, true, k == "exclusiveMaximum", shortestIsExact(f)
		}
		return true
	case "multipleOf":
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || i <= 0 {
			return false
		}
		n.multipleOf = i
		return true
	case "uniqueItems":
		b, ok := v.(bool)
		n.unique = b
		return ok
	case "items":
		n.items = c.sub(v, depth)
		return true
	case "prefixItems":
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			n.prefix = append(n.prefix, c.sub(e, depth))
		}
		return true
	case "properties":
		pm, ok := v.(map[string]any)
		if !ok {
			return false
		}
		for name, s := range pm {
			n.prop(name, c.sub(s, depth))
		}
		return true
	case "required":
		list, ok := v.([]any)
		if !ok {
			return false
		}
		for _, e := range list {
			name, ok := e.(string)
			if !ok {
				return false
			}
			if _, has := n.props[name]; !has {
				// Compiled as a property of any value, whose presence
				// is what counts. properties may come later: prop
				// replaces the node then.
				n.prop(name, nil)
			}
			i := n.props[name]
			if n.reqBit[i] == 0 {
				bit := bitsUsed(n.reqMask)
				if bit >= 64 {
					return false
				}
				n.reqBit[i] = 1 << bit
				n.reqMask |= 1 << bit
			}
		}
		return true
	case "additionalProperties":
		if b, ok := v.(bool); ok && !b {
			n.addlNone = true
			return true
		}
		n.addl = c.sub(v, depth)
		return true
	case "allOf", "anyOf":
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return false
		}
		for _, e := range list {
			s := c.node(e, depth+1)
			if k == "allOf" {
				n.all = append(n.all, s)
			} else {
				n.any = append(n.any, s)
			}
		}
		return true
	case "$ref":
		s, ok := v.(string)
		if !ok {
			return false
		}
		r := c.ref(s, depth)
		if r == nil {
			return false
		}
		n.all = append(n.all, r)
		return true
	}
	return true // not a keyword of the vocabulary: ignored, as the general validator ignores it
}

// sub compiles the schema of a part of the value: an item or a property.
func (c *compiler) sub(v any, depth int) *node {
	c.descents++
	defer func() { c.descents-- }()
	return c.node(v, depth+1)
}

// prop adds (or replaces the node of) a property.
func (n *node) prop(name string, s *node) {
	if n.props == nil {
		n.props = map[string]int{}
	}
	if i, ok := n.props[name]; ok {
		if s != nil {
			n.propNode[i] = s
		}
		return
	}
	n.props[name] = len(n.propList)
	n.propList = append(n.propList, name)
	n.propNode = append(n.propNode, s)
	n.reqBit = append(n.reqBit, 0)
}

func bitsUsed(mask uint64) int {
	n := 0
	for mask != 0 {
		n++
		mask >>= 1
	}
	return n
}

// ref resolves a $ref within the document ("#" or "#/json/pointer");
// nil when it cannot, or when it refers to a schema being compiled for the
// same value (through $ref, allOf and anyOf only): the validator refuses
// such a cycle, and the checker would follow it without end.
func (c *compiler) ref(s string, depth int) *node {
	if n, ok := c.refs[s]; ok {
		if d, open := c.resolving[s]; open && d == c.descents {
			return nil
		}
		return n
	}
	ptr, ok := strings.CutPrefix(s, "#")
	if !ok {
		return nil
	}
	ptr, err := url.PathUnescape(ptr) // a fragment is percent-encoded ("#/$defs/a%20b")
	if err != nil || ptr != "" && ptr[0] != '/' {
		return nil
	}
	target := c.root
	if ptr != "" {
		for _, tok := range strings.Split(ptr[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			m, ok := target.(map[string]any)
			if !ok {
				return nil
			}
			if target, ok = m[tok]; !ok {
				return nil
			}
		}
	}
	// A placeholder first, so that a recursive reference compiles once.
	n := &node{}
	c.refs[s] = n
	c.resolving[s] = c.descents
	*n = *c.node(target, depth+1)
	delete(c.resolving, s)
	return n
}

// typeSet reads "type": a name or a list of names.
func typeSet(v any) (uint8, bool) {
	one := func(s string) (uint8, bool) {
		switch s {
		case "null":
			return tNull, true
		case "boolean":
			return tBool, true
		case "integer":
			return tInteger, true
		case "number":
			return tInteger | tNumber, true
		case "string":
			return tString, true
		case "array":
			return tArray, true
		case "object":
			return tObject, true
		}
		return 0, false
	}
	switch v := v.(type) {
	case string:
		return one(v)
	case []any:
		var t uint8
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return 0, false
			}
			x, ok := one(s)
			if !ok {
				return 0, false
			}
			t |= x
		}
		return t, true
	}
	return 0, false
}

// count reads a non-negative integer keyword.
func count(v any) (int, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(string(num), 10, 32)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(num), 64)
		if ferr != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
			return 0, false
		}
		i = int64(f)
	}
	return int(i), i >= 0
}

// exactFloat reads a number that a float64 holds exactly.
func exactFloat(v any) (float64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(string(num))
	if !ok {
		return 0, false
	}
	f, exact := r.Float64()
	return f, exact && !math.IsInf(f, 0)
}

// shortestIsExact reports whether f's shortest decimal, the JSON form of a
// number equal to f, is exactly f: not for 2^60, written
// 1152921504606847000, which the validator finds unequal to
// 1152921504606846976.
func shortestIsExact(f float64) bool {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return ok && r.Cmp(new(big.Rat).SetFloat64(f)) == 0
}

// scalarOf reads a value of enum or const; false for arrays and objects.
func scalarOf(v any) (scalar, bool) {
	switch v := v.(type) {
	case nil:
		return scalar{typ: tNull}, true
	case bool:
		return scalar{typ: tBool, b: v}, true
	case string:
		return scalar{typ: tString, s: v}, true
	case json.Number:
		f, ok := exactFloat(v)
		return scalar{typ: tInteger, f: f, fJSON: ok && shortestIsExact(f)}, ok
	}
	return scalar{}, false
}

// bytesAccepted says, for each integer from 0 to 255, whether items
// proves it valid: binary data is an array of such integers in JSON. Items
// with applicators (allOf, anyOf, $ref) prove none.
func bytesAccepted(items *node) (set [4]uint64) {
	if len(items.all) > 0 || len(items.any) > 0 {
		return set
	}
	for b := range 256 {
		if items.number(float64(b), true) {
			set[b/64] |= 1 << (b % 64)
		}
	}
	return set
}
