package protocol

import "strconv"

// TokenKind classifies a [Token].
type TokenKind uint8

// The kinds of tokens a [Scanner] reads.
const (
	TokenNil       TokenKind = iota
	TokenUndefined           // d4 00 00
	TokenBool                // Token.Bool
	TokenInt                 // Token.Int
	TokenUint                // Token.Uint: integers above math.MaxInt64
	TokenFloat               // Token.Float (float32 or float64 on the wire)
	TokenString              // Token.Bytes: the raw bytes, not checked for UTF-8
	TokenBinary              // Token.Bytes
	TokenArray               // Token.Len elements follow
	TokenMap                 // Token.Len key/value pairs follow
	TokenExt                 // Token.Ext and its data in Token.Bytes
)

// Extension type codes a [Token] of kind TokenExt may carry
// (NETRON-WIRE.md §9.4).
const (
	ExtStreamReference byte = extStreamReference
	ExtReference       byte = extReference
	ExtDefinition      byte = extDefinition
	ExtTitanError      byte = extTitanError
	ExtLong            byte = extLong
	ExtBigInt          byte = extBigInt
	ExtRegExp          byte = extRegExp
	ExtSet             byte = extSet
	ExtMap             byte = extMap
	ExtDate            byte = extDate
	ExtError           byte = extError
)

// Token is one MessagePack header read by a [Scanner], with the data of
// strings, binaries and extensions. Bytes aliases the scanned input.
type Token struct {
	Kind   TokenKind
	Bool   bool
	Int    int64
	Uint   uint64
	Float  float64
	Len    int    // elements of an array, pairs of a map, bytes of the rest
	Bytes  []byte // the data of a string, binary or extension
	Ext    byte   // the extension type of TokenExt
	Offset int    // where the token starts in the input
}

// Scanner reads a Netron MessagePack value token by token without
// allocating, for code that checks encoded values in place (contracts,
// routing). It applies the decoders' header checks: lengths and counts
// must fit in what remains (an array header claiming more elements than
// there are bytes fails), unknown extension types, 0xc1 and map32 are
// refused. The zero Scanner reads nothing; use [Scanner.Reset]. Nesting
// depth is the caller's to bound: containers are not entered by Next.
type Scanner struct{ d decoder }

// Reset makes the scanner read b from its start.
func (s *Scanner) Reset(b []byte) { s.d = decoder{b: b} }

// Next reads one header into t. A string, binary or extension is
// consumed with its data; an array or map is not: its Len elements (or
// key/value pairs) follow, to be read with Next or Skip.
func (s *Scanner) Next(t *Token) error {
	// The common tokens first, read in place: small integers and strings
	// of up to 31 bytes that fit in what remains.
	if d := &s.d; d.off < len(d.b) {
		c := d.b[d.off]
		switch {
		case c <= 0x7f || c >= 0xe0:
			t.Kind, t.Offset, t.Len, t.Bool, t.Int, t.Uint, t.Float, t.Ext = TokenInt, d.off, 0, false, int64(int8(c)), 0, 0, 0
			if c <= 0x7f {
				t.Int = int64(c)
			}
			if t.Bytes != nil {
				t.Bytes = nil
			}
			d.off++
			return nil
		case c&0xe0 == 0xa0:
			if n := int(c & 0x1f); n < len(d.b)-d.off {
				t.Kind, t.Offset, t.Len, t.Bool, t.Int, t.Uint, t.Float, t.Ext = TokenString, d.off, n, false, 0, 0, 0, 0
				t.Bytes = d.b[d.off+1 : d.off+1+n]
				d.off += 1 + n
				return nil
			}
		}
	}
	h, err := s.d.next()
	if err != nil {
		return err
	}
	// The token kinds are the decoder's, in the same order.
	// Field by field: a composite store would zero Bytes through a
	// write barrier on every token.
	t.Kind, t.Offset, t.Len, t.Bool, t.Int, t.Uint, t.Float, t.Ext = TokenKind(h.k), h.start, h.n, h.b, h.i, h.u, h.f, h.typ
	switch h.k {
	case kStr, kBin, kExt:
		t.Bytes = s.d.strBytes(h.n)
	default:
		if t.Bytes != nil {
			t.Bytes = nil
		}
	}
	return nil
}

// Skip reads one whole value, containers included, nesting at most
// DefaultMaxDepth deep.
func (s *Scanner) Skip() error {
	s.d.depth, s.d.maxDepth = 0, DefaultMaxDepth
	return s.d.skip()
}

// Offset returns how many bytes have been read.
func (s *Scanner) Offset() int { return s.d.off }

// Done reports whether every byte has been read.
func (s *Scanner) Done() bool { return s.d.off == len(s.d.b) }

// DateMillis returns the milliseconds since 1970 of a Date extension's
// data (a TokenExt whose Ext is ExtDate), checked as the decoders check it.
func DateMillis(data []byte) (int64, error) {
	d := decoder{b: data}
	ms, err := d.rawU64(0, "Date data")
	if err != nil {
		return 0, err
	}
	if ms > maxDateMillis {
		return 0, d.malformed(0, "Date of "+strconv.FormatUint(ms, 10)+" ms is out of the JavaScript range")
	}
	return int64(ms), nil
}
