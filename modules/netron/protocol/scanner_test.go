package protocol_test

import (
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// scanAll reads one value token by token, containers entered.
func scanAll(s *protocol.Scanner, depth int) (int, error) {
	var t protocol.Token
	err := s.Next(&t)
	if err != nil {
		return 0, err
	}
	n := 1
	if depth > protocol.DefaultMaxDepth {
		return n, protocol.ErrTooDeep
	}
	switch t.Kind {
	case protocol.TokenArray:
		for range t.Len {
			k, err := scanAll(s, depth+1)
			n += k
			if err != nil {
				return n, err
			}
		}
	case protocol.TokenMap:
		for range 2 * t.Len {
			k, err := scanAll(s, depth+1)
			n += k
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func TestScanner(t *testing.T) {
	v := protocol.Object{
		{Key: "a", Value: []any{int64(1), -2.5, "x", []byte{1, 2}, nil, protocol.Undefined{}, true}},
		{Key: "when", Value: time.UnixMilli(1_700_000_000_123).UTC()},
	}
	b, err := protocol.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var s protocol.Scanner
	s.Reset(b)
	var kinds []protocol.TokenKind
	var date []byte
	for !s.Done() {
		var tok protocol.Token
		err := s.Next(&tok)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, tok.Kind)
		if tok.Kind == protocol.TokenExt && tok.Ext == protocol.ExtDate {
			date = tok.Bytes
		}
	}
	want := []protocol.TokenKind{protocol.TokenMap, protocol.TokenString, protocol.TokenArray, protocol.TokenInt, protocol.TokenFloat,
		protocol.TokenString, protocol.TokenBinary, protocol.TokenNil, protocol.TokenUndefined, protocol.TokenBool, protocol.TokenString, protocol.TokenExt}
	if len(kinds) != len(want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("kinds = %v, want %v", kinds, want)
		}
	}
	if ms, err := protocol.DateMillis(date); err != nil || ms != 1_700_000_000_123 {
		t.Fatalf("DateMillis = %d, %v", ms, err)
	}
	if _, err := protocol.DateMillis([]byte{1, 2}); err == nil {
		t.Fatal("DateMillis of 2 bytes: no error")
	}
	s.Reset(b)
	if err := s.Skip(); err != nil || !s.Done() {
		t.Fatalf("Skip: %v, done %v", err, s.Done())
	}
	// Lengths are checked against the input before anything is read.
	s.Reset([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	var tok protocol.Token
	if err := s.Next(&tok); err == nil {
		t.Fatal("an array header claiming 2^32 elements in 5 bytes: no error")
	}
}

// FuzzScanner: the scanner never panics, and on what the decoder accepts
// it reads exactly the same bytes.
func FuzzScanner(f *testing.F) {
	for _, s := range seedHex(false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s protocol.Scanner
		s.Reset(b)
		_, serr := scanAll(&s, 0)
		end := s.Offset()
		s.Reset(b)
		kerr := s.Skip()
		if _, err := protocol.DecodeValue(b, protocol.Limits{}); err == nil {
			if serr != nil || end != len(b) {
				t.Fatalf("% x decodes, but the scanner read %d of %d bytes: %v", b, end, len(b), serr)
			}
			if kerr != nil || !s.Done() {
				t.Fatalf("% x decodes, but Skip: %v at %d", b, kerr, s.Offset())
			}
		}
	})
}
