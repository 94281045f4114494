package contract

import (
	"math"
	"time"
	"unicode/utf8"

	"github.com/titanframework/titan/internal/unsafeutil"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// maxDepth bounds the nesting of a checked value; deeper values are left
// to the general validator (the decoders refuse them anyway).
const maxDepth = protocol.DefaultMaxDepth

// maxUnique is the longest array whose uniqueItems the checker decides.
const maxUnique = 64

// Valid reports whether the encoded value raw is proven to satisfy the
// schema (see the package documentation): false when it does not, or when
// the checker cannot tell. A nil Checker proves nothing.
func (c *Checker) Valid(raw []byte) bool {
	if c == nil || c.root.undecided {
		return false
	}
	var s protocol.Scanner
	s.Reset(raw)
	return c.root.value(&s, raw, 0) && s.Done()
}

// ValidTuple reports whether elems, the encoded elements of an array (the
// arguments of a call), are proven to satisfy the schema of the array.
func (c *Checker) ValidTuple(elems []protocol.RawValue) bool {
	if c == nil {
		return false
	}
	n := c.root
	if n.undecided || n.types&tArray == 0 || n.hasEnum || len(n.all) > 0 || len(n.any) > 0 || n.unique {
		return false
	}
	if len(elems) < n.minItems || n.maxItems >= 0 && len(elems) > n.maxItems {
		return false
	}
	var s protocol.Scanner
	for i, e := range elems {
		item := n.itemNode(i)
		if item == nil {
			continue
		}
		s.Reset(e)
		if !item.value(&s, e, 1) || !s.Done() {
			return false
		}
	}
	return true
}

// itemNode is the schema of element i of an array, nil for any value.
func (n *node) itemNode(i int) *node {
	if i < len(n.prefix) {
		return n.prefix[i]
	}
	return n.items
}

// value checks the next value of s. b is the whole input s reads, for the
// applicators that read a value more than once (anyOf).
func (n *node) value(s *protocol.Scanner, b []byte, depth int) bool {
	if n.undecided || depth > maxDepth {
		return false
	}
	if len(n.all) > 0 || len(n.any) > 0 {
		start := s.Offset()
		if err := s.Skip(); err != nil {
			return false
		}
		v := b[start:s.Offset()]
		var sub protocol.Scanner
		for _, a := range n.all {
			sub.Reset(v)
			if !a.value(&sub, v, depth+1) {
				return false
			}
		}
		if len(n.any) > 0 {
			ok := false
			for _, a := range n.any {
				sub.Reset(v)
				if a.value(&sub, v, depth+1) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		}
		sub.Reset(v)
		return n.own(&sub, v, depth)
	}
	return n.own(s, b, depth)
}

// own checks the next value of s against n's own keywords (not allOf,
// anyOf or $ref).
func (n *node) own(s *protocol.Scanner, b []byte, depth int) bool {
	var t protocol.Token
	err := s.Next(&t)
	if err != nil {
		return false
	}
	switch t.Kind {
	case protocol.TokenNil, protocol.TokenUndefined:
		return n.null()
	case protocol.TokenBool:
		return n.types&tBool != 0 && n.enumOK(scalar{typ: tBool, b: t.Bool})
	case protocol.TokenInt:
		if t.Int > 1<<53 || t.Int < -(1<<53) {
			return false // beyond float64's exact integers: the general validator compares
		}
		return n.number(float64(t.Int), true)
	case protocol.TokenUint:
		return false
	case protocol.TokenFloat:
		f := t.Float
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return n.null() // JSON has no such number: it is null
		}
		return n.number(f, f == math.Trunc(f))
	case protocol.TokenString:
		// The input does not change during the check.
		return n.str(unsafeutil.String(t.Bytes))
	case protocol.TokenBinary:
		return n.binary(len(t.Bytes))
	case protocol.TokenArray:
		return n.array(s, b, t.Len, depth)
	case protocol.TokenMap:
		return n.object(s, b, t.Len, depth)
	case protocol.TokenExt:
		return n.ext(t)
	}
	return false
}

func (n *node) null() bool {
	return n.types&tNull != 0 && n.enumOK(scalar{typ: tNull})
}

// enumOK reports whether v is one of the enum's values (true without one).
func (n *node) enumOK(v scalar) bool {
	if !n.hasEnum {
		return true
	}
	for _, e := range n.enum {
		if e.typ != v.typ {
			continue
		}
		switch v.typ {
		case tNull:
			return true
		case tBool:
			if e.b == v.b {
				return true
			}
		case tInteger:
			if e.fJSON && e.f == v.f {
				return true
			}
		}
	}
	return false
}

// number checks a finite number; integral says it has no fraction.
func (n *node) number(f float64, integral bool) bool {
	if integral {
		if n.types&tInteger == 0 {
			return false
		}
	} else if n.types&tNumber == 0 {
		return false
	}
	if n.hasMin && (f < n.min || f == n.min && (n.exclMin || !n.minJSON)) {
		return false
	}
	if n.hasMax && (f > n.max || f == n.max && (n.exclMax || !n.maxJSON)) {
		return false
	}
	if n.multipleOf != 0 {
		if !integral || math.Abs(f) > 1<<53 || int64(f)%n.multipleOf != 0 {
			return false
		}
	}
	if n.hasEnum {
		for _, e := range n.enum {
			if e.typ == tInteger && e.fJSON && e.f == f {
				return true
			}
		}
		return false
	}
	return true
}

// str checks a string (its wire bytes seen as a string, or a Go string).
func (n *node) str(p string) bool {
	if n.types&tString == 0 {
		return false
	}
	ascii := asciiOnly(p)
	if !ascii && !utf8.ValidString(p) {
		return false // invalid UTF-8 is replaced on decoding: the general validator sees that
	}
	if n.minLen > 0 || n.maxLen >= 0 {
		l := len(p) // maxLength and minLength count code points: bytes, in ASCII
		if !ascii {
			l = utf8.RuneCountInString(p)
		}
		if l < n.minLen || n.maxLen >= 0 && l > n.maxLen {
			return false
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(p) {
		return false
	}
	if n.format != nil && !n.format(p) {
		return false
	}
	if n.hasEnum {
		for _, e := range n.enum {
			if e.typ == tString && e.s == p {
				return true
			}
		}
		return false
	}
	return true
}

// asciiOnly reports whether s is ASCII, where a byte is a code point.
func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// binary checks binary data of size bytes: in JSON it is a Node Buffer,
// {"type": "Buffer", "data": [size integers from 0 to 255]}.
func (n *node) binary(size int) bool {
	if n.types&tObject == 0 || n.hasEnum {
		return false
	}
	// str and byteArray check a node's own keywords: byteArray leaves a
	// node with applicators (allOf, anyOf, $ref) to the validator, and so
	// must this.
	tb, tok := n.bufferKey("type", func(k *node) bool { return len(k.all) == 0 && len(k.any) == 0 && k.str(bufferWord) })
	db, dok := n.bufferKey("data", func(k *node) bool { return k.byteArray(size) })
	return tok && dok && tb|db == n.reqMask
}

const bufferWord = "Buffer"

// bufferKey checks one key of a Buffer's JSON form: its bit in the
// required mask, and whether its value is proven valid.
func (n *node) bufferKey(name string, ok func(*node) bool) (uint64, bool) {
	i, known := n.props[name]
	var bit uint64
	if known {
		bit = n.reqBit[i]
		if n.propNode[i] != nil {
			return bit, ok(n.propNode[i])
		}
	}
	switch {
	case n.addlNone:
		return 0, false
	case n.addl != nil:
		return bit, ok(n.addl)
	}
	return bit, true
}

// byteArray checks the data array of binary data of size bytes.
func (n *node) byteArray(size int) bool {
	if n.undecided || n.types&tArray == 0 || n.hasEnum || n.unique && size > 1 || len(n.all) > 0 || len(n.any) > 0 || len(n.prefix) > 0 {
		return false
	}
	if size < n.minItems || n.maxItems >= 0 && size > n.maxItems {
		return false
	}
	if size > 0 && n.bytesOK != [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)} {
		return false // items that refuse some byte: left to the validator, which names it
	}
	return true
}

func (n *node) array(s *protocol.Scanner, b []byte, count, depth int) bool {
	if n.types&tArray == 0 || n.hasEnum {
		return false
	}
	if count < n.minItems || n.maxItems >= 0 && count > n.maxItems {
		return false
	}
	if n.unique && count > 1 {
		return n.uniqueArray(s, b, count, depth)
	}
	for i := range count {
		item := n.itemNode(i)
		if item == nil {
			if s.Skip() != nil {
				return false
			}
			continue
		}
		if !item.value(s, b, depth+1) {
			return false
		}
	}
	return true
}

// uniqueArray checks the items of an array whose items must differ:
// decided for up to maxUnique strings, numbers, booleans and nulls.
func (n *node) uniqueArray(s *protocol.Scanner, b []byte, count, depth int) bool {
	if count > maxUnique {
		return false
	}
	var seen [maxUnique]scalar
	for i := range count {
		start := s.Offset()
		item := n.itemNode(i)
		if item != nil {
			if !item.value(s, b, depth+1) {
				return false
			}
		} else if s.Skip() != nil {
			return false
		}
		var sub protocol.Scanner
		sub.Reset(b[start:s.Offset()])
		var t protocol.Token
		err := sub.Next(&t)
		if err != nil {
			return false
		}
		var v scalar
		switch t.Kind {
		case protocol.TokenNil, protocol.TokenUndefined:
			v.typ = tNull
		case protocol.TokenBool:
			v.typ, v.b = tBool, t.Bool
		case protocol.TokenInt:
			if t.Int > 1<<53 || t.Int < -(1<<53) {
				return false
			}
			v.typ, v.f = tInteger, float64(t.Int)
		case protocol.TokenFloat:
			if math.IsNaN(t.Float) || math.IsInf(t.Float, 0) {
				v.typ = tNull
			} else {
				v.typ, v.f = tInteger, t.Float
			}
		case protocol.TokenString:
			if !utf8.Valid(t.Bytes) {
				return false // replaced on decoding: two may become equal
			}
			v.typ, v.p = tString, t.Bytes
		default:
			return false
		}
		for j := range i {
			if seen[j].equal(v) {
				return false
			}
		}
		seen[i] = v
	}
	return true
}

func (n *node) object(s *protocol.Scanner, b []byte, count, depth int) bool {
	if n.types&tObject == 0 || n.hasEnum {
		return false
	}
	var present uint64
	for range count {
		var k protocol.Token
		err := s.Next(&k)
		if err != nil || k.Kind != protocol.TokenString {
			return false // other keys become property names on decoding
		}
		i, known := n.property(k.Bytes)
		if !known && !utf8.Valid(k.Bytes) {
			return false // a known name is valid UTF-8
		}
		if undefinedNext(s, b) {
			// An undefined value is no value: the key is absent in JSON
			// (and a later duplicate replaces an earlier one).
			if known {
				present &^= n.reqBit[i]
			}
			if s.Skip() != nil {
				return false
			}
			continue
		}
		var sn *node
		switch {
		case known && n.propNode[i] != nil:
			sn = n.propNode[i]
		case n.addlNone:
			return false
		default:
			sn = n.addl
		}
		if known {
			present |= n.reqBit[i]
		}
		if sn == nil {
			if s.Skip() != nil {
				return false
			}
		} else if !sn.value(s, b, depth+1) {
			return false
		}
	}
	return present == n.reqMask
}

// property returns the index of the property named k. A few names are
// compared in turn, their lengths first: faster than hashing the key.
func (n *node) property(k []byte) (int, bool) {
	if len(n.propList) > 16 {
		i, ok := n.props[string(k)]
		return i, ok
	}
	for i, name := range n.propList {
		if len(name) == len(k) && name == string(k) {
			return i, true
		}
	}
	return 0, false
}

// undefinedNext reports whether the next value of s is undefined.
func undefinedNext(s *protocol.Scanner, b []byte) bool {
	o := s.Offset()
	return len(b)-o >= 3 && b[o] == 0xd4 && b[o+1] == 0 && b[o+2] == 0
}

// ext checks an extension value: a Date is decided when the schema asks at
// most for a date-time string; the others are left to the validator.
func (n *node) ext(t protocol.Token) bool {
	switch t.Ext {
	case protocol.ExtDate:
		ms, err := protocol.DateMillis(t.Bytes)
		if err != nil || n.types&tString == 0 || n.hasEnum || n.minLen > 0 || n.maxLen >= 0 || n.pattern != nil {
			return false
		}
		if n.format != nil && n.formatName != "date-time" {
			return false
		}
		return time.UnixMilli(ms).UTC().Year() <= 9999 // toISOString's four-digit years
	}
	return false
}

// equal reports whether two items of an array are equal JSON values.
func (a scalar) equal(b scalar) bool {
	return a.typ == b.typ && a.b == b.b && a.f == b.f && string(a.p) == string(b.p)
}
