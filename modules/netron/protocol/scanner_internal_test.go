package protocol

import "testing"

// The scanner hands out the decoder's kinds as token kinds.
func TestTokenKindsAreTheDecodersKinds(t *testing.T) {
	pairs := map[kind]TokenKind{kNil: TokenNil, kUndefined: TokenUndefined, kBool: TokenBool, kInt: TokenInt, kUint: TokenUint,
		kFloat: TokenFloat, kStr: TokenString, kBin: TokenBinary, kArray: TokenArray, kMap: TokenMap, kExt: TokenExt}
	for k, tk := range pairs {
		if TokenKind(k) != tk {
			t.Errorf("decoder kind %d is token kind %d, want %d", k, TokenKind(k), tk)
		}
	}
}

// TestScannerFastTokens: the tokens Next reads in place (small integers,
// short strings) are those the decoder's head gives, for every first
// byte, whole or cut short.
func TestScannerFastTokens(t *testing.T) {
	for c := range 256 {
		for _, size := range []int{1, 2, 16, 33} {
			b := make([]byte, size)
			b[0] = byte(c)
			for i := 1; i < size; i++ {
				b[i] = byte('a' + i%26)
			}
			var s Scanner
			s.Reset(b)
			var got Token
			gerr := s.Next(&got)
			d := decoder{b: b}
			h, werr := d.next()
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("% x: Next: %v, the decoder: %v", b, gerr, werr)
			}
			if werr != nil {
				continue
			}
			want := Token{Kind: TokenKind(h.k), Offset: h.start, Len: h.n, Bool: h.b, Int: h.i, Uint: h.u, Float: h.f, Ext: h.typ}
			if h.k == kStr || h.k == kBin || h.k == kExt {
				want.Bytes = d.strBytes(h.n)
			}
			if got.Kind != want.Kind || got.Offset != want.Offset || got.Len != want.Len || got.Bool != want.Bool ||
				got.Int != want.Int || got.Uint != want.Uint || got.Float != want.Float && !(got.Float != got.Float && want.Float != want.Float) ||
				got.Ext != want.Ext || string(got.Bytes) != string(want.Bytes) || s.Offset() != d.off {
				t.Fatalf("% x: Next read %+v to %d, the decoder %+v to %d", b, got, s.Offset(), want, d.off)
			}
		}
	}
}
