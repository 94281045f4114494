package protocol_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// allocated reports the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHugeDeclaredLengths(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"array32 of 2^32-1", "dd ffffffff 00 00 00 00 00"},
		{"array16 of 65535", "dc ffff 00 00 00 00 00 00 00"},
		{"map16 of 65535", "de ffff a1 61 00 00 00 00 00"},
		{"fixmap of 15", "8f a1 61 00 00 00 00 00"},
		{"str32 of 4 GiB", "db ffffffff 61 61 61"},
		{"bin32 of 4 GiB", "c6 ffffffff 00 00 00"},
		{"ext32 of 4 GiB", "c9 ffffffff 7c 00 00 00"},
		{"Map ext of 2^32-1 entries", "c7 06 7c ffffffff 00 00"},
		{"Set ext of 2^32-1 values", "c7 06 7b ffffffff 00 00"},
		{"Error ext of 65535 fields", "c7 09 7e 0001 a0 a0 a0 ffff"},
		{"array in array", "91 dd ffffffff 00 00 00 00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := h(c.in)
			var err error
			n := allocated(func() { _, err = protocol.DecodeValue(in, protocol.Limits{}) })
			wantErr(t, err, protocol.ErrTruncated)
			if n > 64<<10 {
				t.Fatalf("DecodeValue allocated %d bytes for a %d-byte input", n, len(in))
			}
			var typed struct{ A []int }
			var slice []string
			var m map[string]int
			for _, target := range []any{&typed, &slice, &m, new(any), new(protocol.RawValue)} {
				n = allocated(func() { err = protocol.Unmarshal(in, target) })
				if err == nil {
					t.Fatalf("Unmarshal(%T) accepted %x", target, in)
				}
				if n > 64<<10 {
					t.Fatalf("Unmarshal(%T) allocated %d bytes for a %d-byte input", target, n, len(in))
				}
			}
		})
	}
}

// TestLengthsOf2GiBAndMore holds every reader of encoded values to
// refusing a str32, bin32, ext32 or array32 header whose length is larger
// than what follows, from 2^31 (negative as a 32-bit int) to 2^32-1,
// without panicking: run it with GOARCH=386 too.
func TestLengthsOf2GiBAndMore(t *testing.T) {
	var values []string
	for _, n := range []string{"80000000", "fffffffe", "ffffffff"} {
		values = append(values,
			"db "+n+" 61 61 61", "c6 "+n+" 00 00 00", "c9 "+n+" 7c 00 00 00", "dd "+n+" 00 00 00",
			"92 00 db "+n+" 61", "81 db "+n+" 61 00", "81 a1 61 c6 "+n+" 00", "c7 06 7b 00000001 db "+n)
	}
	for _, v := range values {
		in := h(v)
		t.Run(v, func(t *testing.T) {
			_, err := protocol.DecodeValue(in, protocol.Limits{})
			wantErr(t, err, protocol.ErrTruncated)
			wantErr(t, protocol.CheckValue(in, protocol.Limits{}), protocol.ErrTruncated)
			_, err = protocol.SplitArray(append(h("91"), in...), nil, protocol.Limits{})
			wantErr(t, err, protocol.ErrTruncated)
			_, _, err = protocol.SplitPacket(append(h("0000000103"), in...), protocol.Limits{})
			wantErr(t, err, protocol.ErrTruncated)
			_, err = protocol.AppendValueJSON(nil, protocol.RawValue(in))
			wantErr(t, err, protocol.ErrTruncated)
			for _, target := range []any{new(string), new([]byte), new(any), new([]string), new(map[string][]byte)} {
				if err := protocol.Unmarshal(in, target); err == nil {
					t.Fatalf("Unmarshal(%T) accepted %x", target, in)
				}
				if handled, err := protocol.UnmarshalScalar(in, target, protocol.Limits{}); handled && err == nil {
					t.Fatalf("UnmarshalScalar(%T) accepted %x", target, in)
				}
			}
			var ch protocol.CallHeader
			if err := ch.Decode(in, protocol.Limits{}); err == nil {
				t.Fatalf("CallHeader.Decode accepted %x", in)
			}
			var s protocol.Scanner
			s.Reset(in)
			wantErr(t, s.Skip(), protocol.ErrTruncated)
			s.Reset(in)
			var tok protocol.Token
			for err == nil && !s.Done() {
				err = s.Next(&tok)
			}
			wantErr(t, err, protocol.ErrTruncated)
		})
	}
}

func nested(open string, n int, leaf string) []byte {
	return h(strings.Repeat(open, n) + leaf)
}

func TestDepthLimit(t *testing.T) {
	cases := []struct {
		name, open, leaf string
	}{
		{"arrays", "91", "00"},
		{"maps", "81a0", "00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok := nested(c.open, 128, c.leaf)
			if _, err := protocol.DecodeValue(ok, protocol.Limits{}); err != nil {
				t.Fatalf("depth 128 refused: %v", err)
			}
			var v any
			if err := protocol.Unmarshal(ok, &v); err != nil {
				t.Fatalf("Unmarshal depth 128 refused: %v", err)
			}
			if _, err := protocol.Marshal(v); err != nil {
				t.Fatalf("Marshal depth 128 refused: %v", err)
			}
			deep := nested(c.open, 129, c.leaf)
			_, err := protocol.DecodeValue(deep, protocol.Limits{})
			wantErr(t, err, protocol.ErrTooDeep)
			wantErr(t, protocol.Unmarshal(deep, &v), protocol.ErrTooDeep)
			_, _, err = protocol.SplitPacket(append(h("0000000103"), deep...), protocol.Limits{})
			wantErr(t, err, protocol.ErrTooDeep)
			_, err = protocol.DecodePacket(append(h("0000000103"), deep...), protocol.Limits{})
			wantErr(t, err, protocol.ErrTooDeep)
			_, err = protocol.DecodeValue(nested(c.open, 3, c.leaf), protocol.Limits{MaxDepth: 2})
			wantErr(t, err, protocol.ErrTooDeep)
		})
	}
	t.Run("extensions", func(t *testing.T) {
		// A Set inside 127 arrays is depth 128; inside 128 arrays 129.
		set := "d6 7b 00000000"
		if _, err := protocol.DecodeValue(h(strings.Repeat("91", 127)+set), protocol.Limits{}); err != nil {
			t.Fatalf("depth 128 refused: %v", err)
		}
		_, err := protocol.DecodeValue(h(strings.Repeat("91", 128)+set), protocol.Limits{})
		wantErr(t, err, protocol.ErrTooDeep)
		// Date and Long are leaves.
		date := "d7 7d 0000019000c79c00"
		if _, err := protocol.DecodeValue(h(strings.Repeat("91", 128)+date), protocol.Limits{}); err != nil {
			t.Fatalf("Date at depth 128 refused: %v", err)
		}
	})
	t.Run("typed", func(t *testing.T) {
		type node struct {
			Next *node `json:"n"`
		}
		in := nested("81a16e", 129, "c0")
		var n node
		wantErr(t, protocol.Unmarshal(in, &n), protocol.ErrTooDeep)
		if err := protocol.Unmarshal(nested("81a16e", 128, "c0"), &n); err != nil {
			t.Fatalf("depth 128 refused: %v", err)
		}
	})
	t.Run("encode", func(t *testing.T) {
		var v any = 0
		for range 129 {
			v = []any{v}
		}
		_, err := protocol.Marshal(v)
		wantErr(t, err, protocol.ErrTooDeep)
		type cyc struct{ P *cyc }
		c := &cyc{}
		c.P = c
		_, err = protocol.Marshal(c)
		wantErr(t, err, protocol.ErrTooDeep)
		var self any
		p := &self
		self = p
		_, err = protocol.Marshal(p)
		wantErr(t, err, protocol.ErrTooDeep)
	})
}

func TestUnknownPacketTypes(t *testing.T) {
	for typ := 8; typ <= 15; typ++ {
		for _, flags := range []byte{byte(typ), 0x40 | byte(typ), 0xf0 | byte(typ)} {
			in := append(h("00000001"), flags, 0xc0)
			_, err := protocol.DecodePacket(in, protocol.Limits{})
			wantErr(t, err, protocol.ErrUnknownType)
			_, _, err = protocol.SplitPacket(in, protocol.Limits{})
			wantErr(t, err, protocol.ErrUnknownType)
		}
		_, err := protocol.AppendPacket(nil, &protocol.Packet{Type: protocol.Type(typ)})
		wantErr(t, err, protocol.ErrUnknownType)
	}
	for typ := 0; typ <= 7; typ++ {
		in := append(h("00000001"), byte(typ), 0xc0)
		if typ == 5 {
			in = append(in, 0, 0, 0, 1, 0, 0, 0, 2)
		}
		p, err := protocol.DecodePacket(in, protocol.Limits{})
		if err != nil || p.Type != protocol.Type(typ) {
			t.Fatalf("type %d: %+v, %v", typ, p, err)
		}
	}
}

func TestMalformedInputs(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		packet bool
		want   error
		msg    string
	}{
		{"trailing byte after value", "05 00", false, protocol.ErrTrailingBytes, "trailing bytes at offset 1"},
		{"trailing byte after packet", "00000001 03 05 00", true, protocol.ErrTrailingBytes, "at offset 6"},
		{"trailing byte after stream trailer", "00000001 65 00 00000001 00000000 ff", true, protocol.ErrTrailingBytes, ""},
		{"empty packet", "", true, protocol.ErrTruncated, ""},
		{"short header", "000000", true, protocol.ErrTruncated, ""},
		{"no payload", "00000001 43", true, protocol.ErrTruncated, ""},
		{"short trailer", "00000001 65 00 000000", true, protocol.ErrTruncated, "stream trailer truncated at offset 6"},
		{"fixext1 type 0 non-zero", "d4 00 01", false, protocol.ErrMalformed, ""},
		{"ext8 type 0", "c7 01 00 00", false, protocol.ErrMalformed, ""},
		{"fixext2 type 0", "d5 00 00 00", false, protocol.ErrMalformed, ""},
		{"map32", "df 00000000", false, protocol.ErrUnsupported, "map32 not supported at offset 0"},
		{"map32 inside a packet", "00000002 43 93 a3 616464 01 df00000000", true, protocol.ErrUnsupported, "protocol: map32 not supported at offset 11"},
		{"c1", "c1", false, protocol.ErrMalformed, "0xc1 at offset 0"},
		{"unknown ext type", "d4 05 00", false, protocol.ErrUnsupported, "ext type 5 not supported"},
		{"negative ext type", "d4 ff 00", false, protocol.ErrUnsupported, "ext type -1 not supported"},
		{"Date beyond JS range", "d7 7d ffffffffffffffff", false, protocol.ErrMalformed, ""},
		{"Date data short", "d6 7d 00000000", false, protocol.ErrTruncated, ""},
		{"BigInt not a string", "d5 78 01 00", false, protocol.ErrMalformed, ""},
		{"BigInt not decimal", "d6 78 a3 307831", false, protocol.ErrMalformed, ""},
		{"Long flag 2", "c7 09 77 02 0000000000000000", false, protocol.ErrMalformed, ""},
		{"StreamReference id not numeric", "c7 05 6b a1 78 01 01 a0", false, protocol.ErrMalformed, ""},
		{"StreamReference kind 2", "c7 05 6b a1 31 02 01 a0", false, protocol.ErrMalformed, ""},
		{"TitanError with 12 values", "c7 0c 6e a0 00 a0 80 80 00 c0 c0 c0 c0 c0 c0", false, protocol.ErrTruncated, ""},
		{"TitanError code string", "c7 0d 6e a0 a0 a0 80 80 00 c0 c0 c0 c0 c0 c0 c0", false, protocol.ErrMalformed, ""},
		{"container map key", "81 90 00", false, protocol.ErrUnsupported, "map key"},
		{"truncated float64", "cb 3ff0", false, protocol.ErrTruncated, ""},
		{"truncated ext header", "c7", false, protocol.ErrTruncated, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := h(c.in)
			var err error
			if c.packet {
				_, err = protocol.DecodePacket(in, protocol.Limits{})
				_, _, err2 := protocol.SplitPacket(in, protocol.Limits{})
				wantErr(t, err2, c.want)
			} else {
				_, err = protocol.DecodeValue(in, protocol.Limits{})
				var v any
				wantErr(t, protocol.Unmarshal(in, &v), c.want)
			}
			wantErr(t, err, c.want)
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not contain %q", err, c.msg)
			}
		})
	}
}

func TestBigIntDigitLimit(t *testing.T) {
	ok := new(big.Int).Exp(big.NewInt(10), big.NewInt(protocol.MaxBigIntDigits-1), nil) // 4096 digits
	for _, x := range []*big.Int{ok, new(big.Int).Neg(ok)} {
		b, err := protocol.Marshal(x)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		if err != nil || v.(*big.Int).Cmp(x) != 0 {
			t.Fatalf("DecodeValue: %v", err)
		}
	}
	tooBig := new(big.Int).Mul(ok, big.NewInt(10))
	_, err := protocol.Marshal(tooBig)
	wantErr(t, err, protocol.ErrTooLarge)
	// Hand-built: 4097 digits.
	digits := strings.Repeat("1", protocol.MaxBigIntDigits+1)
	in := append(h("c8 1004 78 da 1001"), digits...)
	_, err = protocol.DecodeValue(in, protocol.Limits{})
	wantErr(t, err, protocol.ErrTooLarge)
}

func TestFrameSizeLimit(t *testing.T) {
	small := h("00000001 03 a5 68656c6c6f")
	_, err := protocol.DecodePacket(small, protocol.Limits{MaxFrameSize: len(small) - 1})
	wantErr(t, err, protocol.ErrTooLarge)
	if _, err := protocol.DecodePacket(small, protocol.Limits{MaxFrameSize: len(small)}); err != nil {
		t.Fatalf("frame at the limit refused: %v", err)
	}
	// The default is 16 MiB.
	payload := bytes.Repeat([]byte{'x'}, protocol.DefaultMaxFrameSize-5-5)
	p := protocol.Packet{ID: 1, Type: protocol.TypeCall, Data: string(payload)}
	b, err := protocol.AppendPacket(nil, &p)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != protocol.DefaultMaxFrameSize {
		t.Fatalf("test frame is %d bytes", len(b))
	}
	if _, err := protocol.DecodePacket(b, protocol.Limits{}); err != nil {
		t.Fatalf("16 MiB frame refused: %v", err)
	}
	p.Data = string(payload) + "x"
	b, _ = protocol.AppendPacket(b[:0], &p)
	_, err = protocol.DecodePacket(b, protocol.Limits{})
	wantErr(t, err, protocol.ErrTooLarge)
	_, err = protocol.DecodeValue(b[5:], protocol.Limits{MaxFrameSize: 100})
	wantErr(t, err, protocol.ErrTooLarge)
	wantErr(t, protocol.UnmarshalLimits(b[5:], new(string), protocol.Limits{MaxFrameSize: 100}), protocol.ErrTooLarge)
}

func TestEveryPrefixIsTruncated(t *testing.T) {
	root := loadVectors(t)
	n := 0
	for _, raw := range root.arr("vectors") {
		v := raw.(jobj)
		kind := v.str("kind")
		if kind != "msgpack_value" && kind != "packet" {
			continue
		}
		b := mustHex(t, v.str("hex"))
		for i := range len(b) {
			var err error
			if kind == "packet" {
				_, err = protocol.DecodePacket(b[:i], protocol.Limits{})
			} else {
				_, err = protocol.DecodeValue(b[:i], protocol.Limits{})
			}
			if !errors.Is(err, protocol.ErrTruncated) {
				t.Fatalf("%s: prefix of %d bytes: error %v, want ErrTruncated", v.str("name"), i, err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no prefixes checked")
	}
}

func TestEncodeRefusals(t *testing.T) {
	big := make(map[string]int, 1<<16)
	for i := range 1 << 16 {
		big[string(rune(0x10000+i))] = i
	}
	_, err := protocol.Marshal(big)
	wantErr(t, err, protocol.ErrTooLarge)
	_, err = protocol.Marshal(make(chan int))
	wantErr(t, err, protocol.ErrUnsupported)
	_, err = protocol.Marshal(struct{ F func() }{})
	wantErr(t, err, protocol.ErrUnsupported)
	_, err = protocol.Marshal(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC))
	wantErr(t, err, protocol.ErrUnsupported)
	_, err = protocol.Marshal(map[[2]int]int{{1, 2}: 3})
	wantErr(t, err, protocol.ErrUnsupported)
	// A failed append leaves the buffer's content length unchanged.
	dst := []byte{1, 2, 3}
	out, err := protocol.AppendValue(dst, []any{1, make(chan int)})
	if err == nil || len(out) != 3 {
		t.Fatalf("AppendValue = %x, %v", out, err)
	}
}
