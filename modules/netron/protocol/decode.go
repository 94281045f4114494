package protocol

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Extension type codes of the Netron profile (NETRON-WIRE.md §9.4).
const (
	extUndefined       = 0
	extStreamReference = 107
	extReference       = 108
	extDefinition      = 109
	extTitanError      = 110
	extLong            = 119
	extBigInt          = 120
	extRegExp          = 121
	extSet             = 123
	extMap             = 124
	extDate            = 125
	extError           = 126
)

// kind classifies a MessagePack header.
type kind uint8

const (
	kNil kind = iota
	kUndefined
	kBool
	kInt   // head.i
	kUint  // head.u, above math.MaxInt64
	kFloat // head.f
	kStr   // head.n bytes at decoder.off
	kBin   // head.n bytes at decoder.off
	kArray // head.n elements follow
	kMap   // head.n key/value pairs follow
	kExt   // head.typ, head.n data bytes at decoder.off
)

// head is one decoded MessagePack header.
type head struct {
	k     kind
	typ   byte
	b     bool
	start int
	n     int
	i     int64
	u     uint64
	f     float64
}

// decoder reads Netron MessagePack values from b, starting at off. Offsets are
// absolute in the original input.
type decoder struct {
	b        []byte
	off      int
	depth    int
	maxDepth int
	strs     *Interner // where CallHeader's strings come from, or nil
	owned    bool      // b is the decoder's to keep: large bins are sliced from it (UnmarshalOwned)
	kept     bool      // a bin was sliced from b (UnmarshalLent)

	// win is a copy of d.b from winStart on (at most strWindow bytes): the
	// short strings that lie inside it are sliced from it, so that a
	// message's strings cost one allocation between them instead of one
	// each (see str).
	win      string
	winStart int

	// budget is what a typed decode may still allocate for the values
	// it makes (the elements of lists and maps, the targets of pointers)
	// when limited: one byte of input can make a list element of any
	// size, so a frame of one-byte elements would otherwise decode into
	// thousands of times its size.
	budget, budgetAll uint64 // budgetAll 0: not limited
}

// decodedFactor bounds what a typed decode allocates for the values it
// makes, as a multiple of the frame limit: enough for a frame of small
// integers read into []int64 (8 bytes each from one), not for a frame of
// nils read into a list of large structs.
const decodedFactor = 8

// spend counts n values of size bytes that a typed decode of what starts
// at start is about to allocate (what: "list of 3 elements of T")
// against the decoder's budget, and refuses them when they do not fit.
func (d *decoder) spend(start, n int, size uintptr, what func() string) error {
	if d.budgetAll == 0 || n == 0 || size == 0 {
		return nil
	}
	hi, need := bits.Mul64(uint64(n), uint64(size))
	if hi != 0 || need > d.budget {
		return decodeErr(start, ErrTooLarge, what()+" would take "+strconv.FormatUint(need, 10)+
			" bytes decoded, more than is left of the "+strconv.FormatUint(d.budgetAll, 10)+
			" a value may take decoded ("+strconv.Itoa(decodedFactor)+" times the frame limit)")
	}
	d.budget -= need
	return nil
}

// DecodeValue decodes exactly one Netron MessagePack value from b and returns
// it in the generic model (see the package documentation). It refuses inputs
// larger than lim.MaxFrameSize, nesting deeper than lim.MaxDepth, and trailing
// bytes. The result does not alias b.
func DecodeValue(b []byte, lim Limits) (any, error) {
	if len(b) > lim.frameSize() {
		return nil, decodeErr(0, ErrTooLarge, "value of "+strconv.Itoa(len(b))+" bytes exceeds the limit of "+strconv.Itoa(lim.frameSize()))
	}
	d := decoder{b: b, maxDepth: lim.depth()}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if d.off != len(b) {
		return nil, decodeErr(d.off, ErrTrailingBytes, strconv.Itoa(len(b)-d.off)+" trailing bytes")
	}
	return v, nil
}

func (d *decoder) truncated(start int, what string) error {
	return decodeErr(start, ErrTruncated, what+" truncated")
}

func (d *decoder) enter(start int) error {
	d.depth++
	if d.depth > d.maxDepth {
		return decodeErr(start, ErrTooDeep, "nesting deeper than "+strconv.Itoa(d.maxDepth))
	}
	return nil
}

func (d *decoder) leave() { d.depth-- }

// lenField reads a big-endian length of size 1, 2 or 4 bytes, of things
// counted in unit. A length larger than the bytes that remain is refused
// before it becomes an int: where int has 32 bits, one of 2^31 or more
// would turn negative and pass the callers' checks.
func (d *decoder) lenField(size int, start int, what, unit string) (int, error) {
	if len(d.b)-d.off < size {
		return 0, d.truncated(start, what+" header")
	}
	var n uint32
	switch size {
	case 1:
		n = uint32(d.b[d.off])
	case 2:
		n = uint32(binary.BigEndian.Uint16(d.b[d.off:]))
	default:
		n = binary.BigEndian.Uint32(d.b[d.off:])
	}
	d.off += size
	if uint64(n) > uint64(len(d.b)-d.off) {
		return 0, d.truncated(start, what+" of "+strconv.FormatUint(uint64(n), 10)+" "+unit)
	}
	return int(n), nil
}

func (d *decoder) need(n int, start int, what string) error {
	if n > len(d.b)-d.off {
		return d.truncated(start, what)
	}
	return nil
}

func (d *decoder) fixed(size int, start int, what string) ([]byte, error) {
	if len(d.b)-d.off < size {
		return nil, d.truncated(start, what)
	}
	p := d.b[d.off : d.off+size]
	d.off += size
	return p, nil
}

// next reads one header. Lengths are checked against the remaining input:
// strings, binaries and extensions must fit, an array of n elements needs at
// least n more bytes and a map of n pairs at least 2n, so no caller allocates
// more than the input justifies.
func (d *decoder) next() (h head, err error) {
	start := d.off
	h.start = start
	if d.off >= len(d.b) {
		return h, d.truncated(start, "value")
	}
	c := d.b[d.off]
	d.off++
	switch {
	case c <= 0x7f:
		h.k, h.i = kInt, int64(c)
		return h, nil
	case c >= 0xe0:
		h.k, h.i = kInt, int64(int8(c))
		return h, nil
	case c&0xf0 == 0x80:
		h.k, h.n = kMap, int(c&0x0f)
		return h, d.checkCount(&h, 2)
	case c&0xf0 == 0x90:
		h.k, h.n = kArray, int(c&0x0f)
		return h, d.checkCount(&h, 1)
	case c&0xe0 == 0xa0:
		h.k, h.n = kStr, int(c&0x1f)
		return h, d.need(h.n, start, "string")
	}
	switch c {
	case 0xc0:
		h.k = kNil
	case 0xc1:
		return h, decodeErr(start, ErrMalformed, "never-used byte 0xc1")
	case 0xc2, 0xc3:
		h.k, h.b = kBool, c == 0xc3
	case 0xc4, 0xc5, 0xc6:
		h.k = kBin
		if h.n, err = d.lenField(1<<(c-0xc4), start, "bin", "bytes"); err != nil {
			return h, err
		}
		return h, d.need(h.n, start, "bin")
	case 0xc7, 0xc8, 0xc9:
		if h.n, err = d.lenField(1<<(c-0xc7), start, "ext", "data bytes"); err != nil {
			return h, err
		}
		if d.off >= len(d.b) {
			return h, d.truncated(start, "ext header")
		}
		h.typ = d.b[d.off]
		d.off++
		return h, d.extHead(&h, c)
	case 0xca:
		p, err := d.fixed(4, start, "float32")
		if err != nil {
			return h, err
		}
		h.k, h.f = kFloat, float64(math.Float32frombits(binary.BigEndian.Uint32(p)))
	case 0xcb:
		p, err := d.fixed(8, start, "float64")
		if err != nil {
			return h, err
		}
		h.k, h.f = kFloat, math.Float64frombits(binary.BigEndian.Uint64(p))
	case 0xcc, 0xcd, 0xce, 0xcf:
		size := 1 << (c - 0xcc)
		p, err := d.fixed(size, start, "uint")
		if err != nil {
			return h, err
		}
		var u uint64
		for _, x := range p {
			u = u<<8 | uint64(x)
		}
		if u > math.MaxInt64 {
			h.k, h.u = kUint, u
		} else {
			h.k, h.i = kInt, int64(u)
		}
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		p, err := d.fixed(size, start, "int")
		if err != nil {
			return h, err
		}
		var u uint64
		for _, x := range p {
			u = u<<8 | uint64(x)
		}
		shift := 64 - 8*uint(size)
		h.k, h.i = kInt, int64(u<<shift)>>shift
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		h.n = 1 << (c - 0xd4)
		if d.off >= len(d.b) {
			return h, d.truncated(start, "ext header")
		}
		h.typ = d.b[d.off]
		d.off++
		return h, d.extHead(&h, c)
	case 0xd9, 0xda, 0xdb:
		h.k = kStr
		if h.n, err = d.lenField(1<<(c-0xd9), start, "string", "bytes"); err != nil {
			return h, err
		}
		return h, d.need(h.n, start, "string")
	case 0xdc, 0xdd:
		h.k = kArray
		if h.n, err = d.lenField(2<<(c-0xdc), start, "array", "elements"); err != nil {
			return h, err
		}
		return h, d.checkCount(&h, 1)
	case 0xde:
		h.k = kMap
		if h.n, err = d.lenField(2, start, "map", "entries"); err != nil {
			return h, err
		}
		return h, d.checkCount(&h, 2)
	case 0xdf:
		return h, decodeErr(start, ErrUnsupported, "map32 not supported")
	}
	return h, nil
}

func (d *decoder) checkCount(h *head, perItem int) error {
	if uint64(h.n)*uint64(perItem) > uint64(len(d.b)-d.off) {
		what := "array of " + strconv.Itoa(h.n) + " elements"
		if h.k == kMap {
			what = "map of " + strconv.Itoa(h.n) + " entries"
		}
		return d.truncated(h.start, what)
	}
	return nil
}

// extHead validates an extension header: the data must fit, the type must be
// registered, and type 0 is only valid as d4 00 00 (undefined).
func (d *decoder) extHead(h *head, c byte) error {
	if err := d.need(h.n, h.start, "ext data"); err != nil {
		return err
	}
	switch h.typ {
	case extUndefined:
		if c != 0xd4 || d.b[d.off] != 0 {
			return decodeErr(h.start, ErrMalformed, "ext type 0 other than d4 00 00")
		}
		d.off++
		h.k = kUndefined
		return nil
	case extStreamReference, extReference, extDefinition, extTitanError, extLong,
		extBigInt, extRegExp, extSet, extMap, extDate, extError:
		h.k = kExt
		return nil
	}
	return decodeErr(h.start, ErrUnsupported, "ext type "+strconv.Itoa(int(int8(h.typ)))+" not supported")
}

// strBytes returns the n bytes of a string or binary at the current offset.
func (d *decoder) strBytes(n int) []byte {
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

// strWindow is the most bytes one string window copies, and so the most
// memory a string kept from a decoded value can hold alive beyond its own
// bytes; strings longer than strWindow/4 get their own allocation.
const strWindow = 1024

// str consumes the n bytes of a string at the current offset and returns it
// as makeString would. A short string comes from the decoder's window, a
// copy of the bytes from it on, which the following strings share: decoding
// a struct of nine strings allocates once for them, not nine times. The
// window is a string, so sharing it is safe; its cost is that a string kept
// from a decoded value keeps up to strWindow bytes alive.
func (d *decoder) str(n int) string {
	start := d.off
	p := d.b[start : start+n]
	d.off += n
	if n == 0 {
		return ""
	}
	if n > strWindow/4 || !utf8.Valid(p) {
		return makeString(p)
	}
	at := start - d.winStart
	if at < 0 || at+n > len(d.win) {
		end := min(len(d.b), start+strWindow)
		d.win, d.winStart, at = string(d.b[start:end]), start, 0
	}
	return d.win[at : at+n]
}

// makeString converts wire bytes to a string, replacing invalid UTF-8 like the
// TypeScript decoders (one U+FFFD per maximal ill-formed subsequence, as the
// WHATWG UTF-8 decoder does).
func makeString(p []byte) string {
	if utf8.Valid(p) {
		return string(p)
	}
	return string(replaceInvalidUTF8(p))
}

func replaceInvalidUTF8(p []byte) []byte {
	out := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); {
		c := p[i]
		if c < 0x80 {
			out = append(out, c)
			i++
			continue
		}
		var need int
		lo, hi := byte(0x80), byte(0xbf)
		switch {
		case c >= 0xc2 && c <= 0xdf:
			need = 1
		case c == 0xe0:
			need, lo = 2, 0xa0
		case c == 0xed:
			need, hi = 2, 0x9f
		case c >= 0xe1 && c <= 0xef:
			need = 2
		case c == 0xf0:
			need, lo = 3, 0x90
		case c == 0xf4:
			need, hi = 3, 0x8f
		case c >= 0xf1 && c <= 0xf3:
			need = 3
		default:
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < need; k++ {
			if j >= len(p) || p[j] < lo || p[j] > hi {
				ok = false
				break
			}
			lo, hi = 0x80, 0xbf
			j++
		}
		if ok {
			out = append(out, p[i:j]...)
		} else {
			out = utf8.AppendRune(out, utf8.RuneError)
		}
		i = j
	}
	return out
}

// value decodes one value into the generic model.
func (d *decoder) value() (any, error) {
	h, err := d.next()
	if err != nil {
		return nil, err
	}
	switch h.k {
	case kNil:
		return nil, nil
	case kUndefined:
		return Undefined{}, nil
	case kBool:
		return h.b, nil
	case kInt:
		return h.i, nil
	case kUint:
		return h.u, nil
	case kFloat:
		return h.f, nil
	case kStr:
		return d.str(h.n), nil
	case kBin:
		return append([]byte{}, d.strBytes(h.n)...), nil
	case kArray:
		if err := d.enter(h.start); err != nil {
			return nil, err
		}
		a := make([]any, h.n)
		for i := range a {
			if a[i], err = d.value(); err != nil {
				return nil, err
			}
		}
		d.leave()
		return a, nil
	case kMap:
		if err := d.enter(h.start); err != nil {
			return nil, err
		}
		o, err := d.objectBody(h.n)
		if err != nil {
			return nil, err
		}
		d.leave()
		return o, nil
	default:
		return d.ext(h)
	}
}

// objectBody reads n key/value pairs into an Object, coercing keys to strings
// and letting a repeated key keep its first position and its last value.
func (d *decoder) objectBody(n int) (Object, error) {
	o := make(Object, 0, n)
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
		o, index = addField(o, index, k, v)
	}
	return o, nil
}

func addField(o Object, index map[string]int, k string, v any) (Object, map[string]int) {
	if index != nil {
		if i, ok := index[k]; ok {
			o[i].Value = v
			return o, index
		}
		index[k] = len(o)
		return append(o, Field{Key: k, Value: v}), index
	}
	for i := range o {
		if o[i].Key == k {
			o[i].Value = v
			return o, index
		}
	}
	o = append(o, Field{Key: k, Value: v})
	if len(o) >= 32 {
		index = make(map[string]int, len(o)*2)
		for i := range o {
			index[o[i].Key] = i
		}
	}
	return o, index
}

// keyBytes reads a string map key without copying it when it is a string;
// other keys are decoded and converted like JavaScript property names.
func (d *decoder) keyBytes() ([]byte, string, error) {
	if d.off < len(d.b) {
		c := d.b[d.off]
		if n := int(c & 0x1f); c&0xe0 == 0xa0 && n < len(d.b)-d.off { // the common key: a short string
			p := d.b[d.off+1 : d.off+1+n]
			d.off += 1 + n
			return p, "", nil
		}
		if c&0xe0 == 0xa0 || (c >= 0xd9 && c <= 0xdb) {
			h, err := d.next()
			if err != nil {
				return nil, "", err
			}
			return d.strBytes(h.n), "", nil
		}
	}
	start := d.off
	v, err := d.value()
	if err != nil {
		return nil, "", err
	}
	s, ok := keyString(v)
	if !ok {
		return nil, "", decodeErr(start, ErrUnsupported, "map key of type "+typeNameOf(v)+" not supported")
	}
	return nil, s, nil
}

func (d *decoder) key() (string, error) {
	p, s, err := d.keyBytes()
	if err != nil {
		return "", err
	}
	if p != nil {
		d.off -= len(p)
		return d.str(len(p)), nil
	}
	return s, nil
}

// skipSmall skips the value at the offset when it is one of the one-byte
// values (small integers, nil, booleans) or a string of up to 31 bytes
// that fits in what remains, and reports whether it did: the common
// values of a message, read without decoding a head. Anything else is
// left to next, with its checks and errors.
func (d *decoder) skipSmall() bool {
	if d.off >= len(d.b) {
		return false
	}
	switch c := d.b[d.off]; {
	case c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3:
		d.off++
		return true
	case c&0xe0 == 0xa0:
		if n := int(c & 0x1f); n < len(d.b)-d.off {
			d.off += 1 + n
			return true
		}
	}
	return false
}

// skipShortString is skipSmall for a map key: only a string of up to 31
// bytes, which needs no conversion.
func (d *decoder) skipShortString() bool {
	if d.off >= len(d.b) {
		return false
	}
	if c := d.b[d.off]; c&0xe0 == 0xa0 {
		if n := int(c & 0x1f); n < len(d.b)-d.off {
			d.off += 1 + n
			return true
		}
	}
	return false
}

// skip reads one value without building it (extensions are decoded and
// discarded, so their contents are validated too).
func (d *decoder) skip() error {
	if d.skipSmall() {
		return nil
	}
	h, err := d.next()
	if err != nil {
		return err
	}
	switch h.k {
	case kStr, kBin:
		d.off += h.n
	case kArray, kMap:
		if err := d.enter(h.start); err != nil {
			return err
		}
		for range h.n {
			if h.k == kMap && !d.skipShortString() {
				// Keys are checked as the decoders check them.
				if _, _, err := d.keyBytes(); err != nil {
					return err
				}
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
		d.leave()
	case kExt:
		_, err := d.ext(h)
		return err
	}
	return nil
}
