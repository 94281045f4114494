package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
)

// maxDateMillis is the largest time value of a JavaScript Date (±8.64e15 ms).
const maxDateMillis = 8_640_000_000_000_000

// ext decodes the data of a registered extension. Unread data bytes at the end
// are ignored, as the TypeScript decoders do (§9.3).
func (d *decoder) ext(h head) (any, error) {
	end := d.off + h.n
	sub := decoder{b: d.b[:end], off: d.off, depth: d.depth, maxDepth: d.maxDepth}
	leaf := h.typ == extDate || h.typ == extLong
	if !leaf {
		if err := sub.enter(h.start); err != nil {
			return nil, err
		}
	}
	var v any
	var err error
	switch h.typ {
	case extDate:
		v, err = sub.date(h.start)
	case extLong:
		v, err = sub.long(h.start)
	case extMap:
		v, err = sub.jsMap(h.start)
	case extSet:
		v, err = sub.jsSet(h.start)
	case extBigInt:
		v, err = sub.bigInt(h.start)
	case extRegExp:
		v, err = sub.regexp(h.start)
	case extError:
		v, err = sub.jsError(h.start)
	case extTitanError:
		v, err = sub.titanError(h.start)
	case extDefinition:
		v, err = sub.definition(h.start)
	case extReference:
		v, err = sub.reference(h.start)
	case extStreamReference:
		v, err = sub.streamReference(h.start)
	}
	if err != nil {
		return nil, err
	}
	d.off = end
	return v, nil
}

func (d *decoder) malformed(start int, what string) error {
	return decodeErr(start, ErrMalformed, what)
}

func (d *decoder) rawU8(start int, what string) (byte, error) {
	p, err := d.fixed(1, start, what)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

func (d *decoder) rawU16(start int, what string) (int, error) {
	p, err := d.fixed(2, start, what)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(p)), nil
}

func (d *decoder) rawU32(start int, what string) (uint32, error) {
	p, err := d.fixed(4, start, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(p), nil
}

func (d *decoder) rawU64(start int, what string) (uint64, error) {
	p, err := d.fixed(8, start, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(p), nil
}

// optString decodes a value that must be a string, null or undefined (the
// latter two give "").
func (d *decoder) optString(what string) (string, error) {
	start := d.off
	v, err := d.value()
	if err != nil {
		return "", err
	}
	switch s := v.(type) {
	case string:
		return s, nil
	case nil, Undefined:
		return "", nil
	}
	return "", d.malformed(start, what+": expected a string, got "+typeNameOf(v))
}

func (d *decoder) number(what string) (float64, bool, int64, error) {
	start := d.off
	v, err := d.value()
	if err != nil {
		return 0, false, 0, err
	}
	switch n := v.(type) {
	case int64:
		return float64(n), true, n, nil
	case uint64:
		return float64(n), false, 0, d.malformed(start, what+": number out of range")
	case float64:
		return n, false, 0, nil
	}
	return 0, false, 0, d.malformed(start, what+": expected a number, got "+typeNameOf(v))
}

func (d *decoder) date(start int) (any, error) {
	ms, err := d.rawU64(start, "Date data")
	if err != nil {
		return nil, err
	}
	if ms > maxDateMillis {
		return nil, d.malformed(start, "Date of "+strconv.FormatUint(ms, 10)+" ms is out of the JavaScript range")
	}
	return time.UnixMilli(int64(ms)).UTC(), nil
}

func (d *decoder) long(start int) (any, error) {
	flag, err := d.rawU8(start, "Long data")
	if err != nil {
		return nil, err
	}
	if flag > 1 {
		return nil, d.malformed(start, "Long unsigned flag "+strconv.Itoa(int(flag)))
	}
	bits, err := d.rawU64(start, "Long data")
	if err != nil {
		return nil, err
	}
	return Long{Bits: bits, Unsigned: flag == 1}, nil
}

func (d *decoder) jsMap(start int) (any, error) {
	n, err := d.rawU32(start, "Map data")
	if err != nil {
		return nil, err
	}
	if uint64(n)*2 > uint64(len(d.b)-d.off) {
		return nil, d.truncated(start, "Map of "+strconv.FormatUint(uint64(n), 10)+" entries")
	}
	m := make(Map, n)
	for i := range m {
		if m[i].Key, err = d.value(); err != nil {
			return nil, err
		}
		if m[i].Value, err = d.value(); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (d *decoder) jsSet(start int) (any, error) {
	n, err := d.rawU32(start, "Set data")
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(d.b)-d.off) {
		return nil, d.truncated(start, "Set of "+strconv.FormatUint(uint64(n), 10)+" values")
	}
	s := make(Set, n)
	for i := range s {
		if s[i], err = d.value(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (d *decoder) bigInt(start int) (any, error) {
	vstart := d.off
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	s, ok := v.(string)
	if !ok {
		return nil, d.malformed(vstart, "BigInt: expected a decimal string, got "+typeNameOf(v))
	}
	return parseBigInt(s, vstart)
}

func parseBigInt(s string, off int) (*big.Int, error) {
	digits := len(s)
	if digits > 0 && s[0] == '-' {
		digits--
	}
	if digits > MaxBigIntDigits {
		return nil, decodeErr(off, ErrTooLarge, "BigInt of "+strconv.Itoa(len(s))+" characters")
	}
	x, ok := new(big.Int).SetString(s, 10)
	if !ok || s == "" || s[0] == '+' {
		return nil, decodeErr(off, ErrMalformed, "BigInt: invalid decimal string")
	}
	return x, nil
}

func (d *decoder) regexp(start int) (any, error) {
	src, err := d.optString("RegExp source")
	if err != nil {
		return nil, err
	}
	flags, err := d.optString("RegExp flags")
	if err != nil {
		return nil, err
	}
	return RegExp{Source: src, Flags: flags}, nil
}

func (d *decoder) jsError(start int) (any, error) {
	class, err := d.rawU16(start, "Error data")
	if err != nil {
		return nil, err
	}
	if class == 0 {
		class = int(ClassError) // the encoders send a zero class as Error
	}
	e := &JSError{Class: ErrorClass(class)}
	if e.Name, err = d.optString("Error name"); err != nil {
		return nil, err
	}
	if e.Stack, err = d.optString("Error stack"); err != nil {
		return nil, err
	}
	if e.Message, err = d.optString("Error message"); err != nil {
		return nil, err
	}
	n, err := d.rawU16(start, "Error data")
	if err != nil {
		return nil, err
	}
	if n*2 > len(d.b)-d.off {
		return nil, d.truncated(start, "Error with "+strconv.Itoa(n)+" fields")
	}
	e.Fields = make(Object, 0, n)
	var index map[string]int
	for range n {
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		e.Fields, index = addField(e.Fields, index, k, v)
	}
	return e, nil
}

func (d *decoder) titanError(start int) (any, error) {
	t := &TitanError{}
	var err error
	if t.Name, err = d.optString("TitanError name"); err != nil {
		return nil, err
	}
	f, isInt, i, err := d.number("TitanError code")
	if err != nil {
		return nil, err
	}
	if !isInt {
		if f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return nil, d.malformed(start, "TitanError code is not an integer")
		}
		i = int64(f)
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return nil, d.malformed(start, "TitanError code out of range")
	}
	t.Code = int(i)
	if t.Message, err = d.optString("TitanError message"); err != nil {
		return nil, err
	}
	if t.Details, err = d.value(); err != nil {
		return nil, err
	}
	if t.Context, err = d.value(); err != nil {
		return nil, err
	}
	// TypeScript defaults both to {} (and the encoders send nil as {}).
	if t.Details == nil || t.Details == (Undefined{}) {
		t.Details = Object{}
	}
	if t.Context == nil || t.Context == (Undefined{}) {
		t.Context = Object{}
	}
	tsStart := d.off
	f, isInt, i, err = d.number("TitanError timestamp")
	if err != nil {
		return nil, err
	}
	if !isInt {
		if f != f || f > maxDateMillis || f < -maxDateMillis {
			return nil, d.malformed(tsStart, "TitanError timestamp out of range")
		}
		i = int64(f)
	}
	t.Timestamp = i
	for _, p := range [...]*string{&t.RequestID, &t.CorrelationID, &t.SpanID, &t.TraceID, &t.Stack} {
		if *p, err = d.optString("TitanError field"); err != nil {
			return nil, err
		}
	}
	cause, err := d.value()
	if err != nil {
		return nil, err
	}
	t.Cause = causeOf(cause)
	exStart := d.off
	extras, err := d.value()
	if err != nil {
		return nil, err
	}
	switch x := extras.(type) {
	case nil, Undefined:
	case Object:
		t.Extras = x
	default:
		return nil, d.malformed(exStart, "TitanError extras: expected a map, got "+typeNameOf(extras))
	}
	return t, nil
}

// causeOf turns the decoded cause of a TitanError into its Go form: nil for
// null/undefined, *ErrorCause for the exact plain-error map the encoders
// write, the value itself otherwise.
func causeOf(v any) any {
	switch c := v.(type) {
	case nil, Undefined:
		return nil
	case Object:
		if len(c) != 4 || c[0].Key != "__errorType" || c[0].Value != "Error" ||
			c[1].Key != "name" || c[2].Key != "message" || c[3].Key != "stack" {
			return v
		}
		name, ok1 := c[1].Value.(string)
		msg, ok2 := c[2].Value.(string)
		if !ok1 || !ok2 {
			return v
		}
		cause := &ErrorCause{Name: name, Message: msg}
		switch s := c[3].Value.(type) {
		case Undefined:
		case string:
			if s == "" {
				return v
			}
			cause.Stack = s
		default:
			return v
		}
		return cause
	}
	return v
}

func (d *decoder) definition(start int) (any, error) {
	def := &Definition{}
	var err error
	if def.ID, err = d.optString("Definition id"); err != nil {
		return nil, err
	}
	if def.ParentID, err = d.optString("Definition parentId"); err != nil {
		return nil, err
	}
	if def.PeerID, err = d.optString("Definition peerId"); err != nil {
		return nil, err
	}
	if def.Meta, err = d.value(); err != nil {
		return nil, err
	}
	return def, nil
}

func (d *decoder) reference(start int) (any, error) {
	id, err := d.optString("Reference defId")
	if err != nil {
		return nil, err
	}
	return Reference{DefID: id}, nil
}

func (d *decoder) streamReference(start int) (any, error) {
	idStart := d.off
	id, err := d.optString("StreamReference streamId")
	if err != nil {
		return nil, err
	}
	n, perr := strconv.ParseUint(id, 10, 32)
	if perr != nil {
		return nil, d.malformed(idStart, "StreamReference streamId "+strconv.Quote(id)+" is not a 32-bit decimal")
	}
	kind, err := d.rawU8(start, "StreamReference data")
	if err != nil {
		return nil, err
	}
	live, err := d.rawU8(start, "StreamReference data")
	if err != nil {
		return nil, err
	}
	if kind > 1 || live > 1 {
		return nil, d.malformed(start, "StreamReference type/live bytes must be 0 or 1")
	}
	peer, err := d.optString("StreamReference peerId")
	if err != nil {
		return nil, err
	}
	return StreamReference{StreamID: uint32(n), Kind: StreamKind(kind), IsLive: live == 1, PeerID: peer}, nil
}

// keyString converts a decoded map key to the property name JavaScript would
// use. Only scalar keys (and bin, as Buffer.toString) have one; containers and
// extension values other than BigInt are refused.
func keyString(v any) (string, bool) {
	switch k := v.(type) {
	case string:
		return k, true
	case nil:
		return "null", true
	case Undefined:
		return "undefined", true
	case bool:
		if k {
			return "true", true
		}
		return "false", true
	case int64:
		return strconv.FormatInt(k, 10), true
	case uint64:
		// JavaScript reads uint64 as a (lossy) number.
		return jsNumberString(float64(k)), true
	case float64:
		return jsNumberString(k), true
	case []byte:
		return makeString(k), true
	case *big.Int:
		return k.String(), true
	}
	return "", false
}

func typeNameOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case bool:
		return "bool"
	case int64, uint64, float64:
		return "number"
	case string:
		return "string"
	case []byte:
		return "bin"
	case []any:
		return "array"
	case Object:
		return "map"
	}
	return fmt.Sprintf("%T", v)
}
