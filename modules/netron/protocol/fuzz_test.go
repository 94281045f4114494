package protocol_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/wirevectors"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// seedHex returns the hex strings of the vectors (values, packets, decoder
// cases, session frames) of the module's copy (internal/wirevectors), plus
// a few built-in seeds.
func seedHex(packets bool) [][]byte {
	builtin := []string{"0000000103d40000", "0000000265000000000100000000", "000000014394a3616464a161c0cb3ff8000000000000"}
	if !packets {
		builtin = []string{"c0", "d40000", "83a13203a2313002a17a01", "c70d7c00000002a16101a162a374776f", "d77d0000019000c79c00"}
	}
	var seeds [][]byte
	for _, s := range builtin {
		b, _ := hex.DecodeString(s)
		seeds = append(seeds, b)
	}
	v, err := readOrderedJSON(bytes.NewReader(wirevectors.JSON))
	if err != nil {
		return seeds
	}
	root := v.(jobj)
	add := func(s string) {
		if b, err := hex.DecodeString(s); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, raw := range root.arr("vectors") {
		o := raw.(jobj)
		if (o.str("kind") == "packet") == packets {
			add(o.str("hex"))
		}
	}
	for _, raw := range root.arr("decoder_acceptance") {
		o := raw.(jobj)
		if (o.str("kind") == "packet_decode_only") == packets {
			add(o.str("hex"))
		}
	}
	if packets {
		for _, s := range root.arr("sessions") {
			for _, fr := range s.(jobj).arr("frames") {
				f := fr.(jobj)
				if f.obj("packet") != nil && f.str("hex") != "" {
					b, err := hex.DecodeString(f.str("hex"))
					if err == nil {
						if _, ok := f.get("length_prefix"); ok && len(b) > 4 {
							b = b[4:]
						}
						seeds = append(seeds, b)
					}
				}
			}
		}
	}
	return seeds
}

// FuzzDecodePacket: no input panics; whatever decodes re-encodes, decodes to
// the same packet, and re-encodes to the same bytes; SplitPacket agrees.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range seedHex(true) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := protocol.DecodePacket(b, protocol.Limits{})
		_, raw, serr := protocol.SplitPacket(b, protocol.Limits{})
		if (err == nil) != (serr == nil) {
			t.Fatalf("DecodePacket err %v, SplitPacket err %v", err, serr)
		}
		// A stream packet SplitStreamPacket splits, with a payload that
		// CheckValue accepts, is one SplitPacket accepts.
		if _, sraw, err := protocol.SplitStreamPacket(b, protocol.Limits{}); err == nil && protocol.CheckValue(sraw, protocol.Limits{}) == nil && serr != nil {
			t.Fatalf("SplitStreamPacket and CheckValue accept what SplitPacket refuses: %v", serr)
		}
		if err != nil {
			var de *protocol.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		if !bytes.Equal(raw, b[5:5+len(raw)]) {
			t.Fatal("SplitPacket payload does not alias the frame")
		}
		// SplitStreamPacket gives what SplitPacket gives when it succeeds.
		sp, sraw, err := protocol.SplitStreamPacket(b, protocol.Limits{})
		if err != nil || !bytes.Equal(sraw, raw) || sp.Type != p.Type || sp.ID != p.ID || sp.StreamID != p.StreamID || sp.StreamIndex != p.StreamIndex || sp.EOS != p.EOS {
			t.Fatalf("SplitStreamPacket %+v %x %v; SplitPacket %+v %x", sp, sraw, err, p, raw)
		}
		re, err := protocol.AppendPacket(nil, &p)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", p, err)
		}
		p2, err := protocol.DecodePacket(re, protocol.Limits{})
		if err != nil {
			t.Fatalf("decoding the re-encoding %x: %v", re, err)
		}
		if !samePacket(p, p2) {
			t.Fatalf("packet changed:\n%+v\n%+v", p, p2)
		}
		re2, err := protocol.AppendPacket(nil, &p2)
		if err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("encoding not stable: %x vs %x (%v)", re, re2, err)
		}
	})
}

// FuzzDecodeValue: as FuzzDecodePacket for single values, and Unmarshal into
// any agrees with DecodeValue.
func FuzzDecodeValue(f *testing.F) {
	for _, s := range seedHex(false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := protocol.DecodeValue(b, protocol.Limits{})
		var u any
		uerr := protocol.Unmarshal(b, &u)
		if (err == nil) != (uerr == nil) {
			t.Fatalf("DecodeValue err %v, Unmarshal err %v", err, uerr)
		}
		if cerr := protocol.CheckValue(b, protocol.Limits{}); (err == nil) != (cerr == nil) {
			t.Fatalf("DecodeValue err %v, CheckValue err %v", err, cerr)
		}
		if err != nil {
			return
		}
		if !sameValue(v, u) {
			t.Fatalf("DecodeValue %#v, Unmarshal %#v", v, u)
		}
		re, err := protocol.Marshal(v)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", v, err)
		}
		v2, err := protocol.DecodeValue(re, protocol.Limits{})
		if err != nil {
			t.Fatalf("decoding the re-encoding %x: %v", re, err)
		}
		if !sameValue(v, v2) {
			t.Fatalf("value changed:\n%#v\n%#v", v, v2)
		}
		re2, err := protocol.Marshal(v2)
		if err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("encoding not stable: %x vs %x (%v)", re, re2, err)
		}
		if _, err := protocol.ToJSON(v); err != nil {
			t.Fatalf("ToJSON: %v", err)
		}
	})
}

type fuzzTarget struct {
	ID  int64                `json:"id"`
	U   uint16               `json:"u"`
	F   float32              `json:"f"`
	S   string               `json:"s"`
	B   []byte               `json:"b"`
	L   []int32              `json:"l"`
	A   [2]string            `json:"a"`
	M   map[string]uint8     `json:"m"`
	K   map[int]string       `json:"k"`
	T   time.Time            `json:"t"`
	N   *big.Int             `json:"n"`
	P   *fuzzTarget          `json:"p"`
	Any any                  `json:"any"`
	Obj protocol.Object      `json:"obj"`
	Err *protocol.TitanError `json:"err"`
	Ok  bool                 `json:"ok"`
}

// FuzzUnmarshal: no input panics the typed decoder, a decoded value
// re-encodes to bytes that decode to a value with the same encoding, and
// UnmarshalOwned decodes what UnmarshalLimits decodes, to the same value.
// So does UnmarshalLent, and when it says it kept nothing of its input,
// nothing of the value changes when the input is overwritten.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range seedHex(false) {
		f.Add(s)
	}
	seed, err := protocol.Marshal(fuzzTarget{ID: 1, S: "s", L: []int32{1}, M: map[string]uint8{"a": 1}, K: map[int]string{2: "b"},
		T: time.UnixMilli(1718000000000), N: big.NewInt(-3), P: &fuzzTarget{Ok: true}, Any: []any{protocol.Undefined{}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	big, err := protocol.Marshal(fuzzTarget{B: bytes.Repeat([]byte{7}, protocol.OwnedBinMin), P: &fuzzTarget{B: make([]byte, 2000)}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(big)
	f.Fuzz(func(t *testing.T, b []byte) {
		var v, owned fuzzTarget
		err := protocol.Unmarshal(b, &v)
		errOwned := protocol.UnmarshalOwned(bytes.Clone(b), &owned, protocol.Limits{})
		if (err == nil) != (errOwned == nil) || (err != nil && err.Error() != errOwned.Error()) {
			t.Fatalf("UnmarshalLimits: %v; UnmarshalOwned: %v", err, errOwned)
		}
		if err != nil {
			return
		}
		// What the typed decoder accepts is well formed: a stream item
		// decoded so needs no check of its own (SplitStreamPacket).
		if cerr := protocol.CheckValue(b, protocol.Limits{}); cerr != nil {
			t.Fatalf("Unmarshal accepts what CheckValue refuses: %v", cerr)
		}
		re, err := protocol.Marshal(&v)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", v, err)
		}
		if reOwned, err := protocol.Marshal(&owned); err != nil || !bytes.Equal(re, reOwned) {
			t.Fatalf("UnmarshalOwned decoded another value:\n%x\n%x (%v)", re, reOwned, err)
		}
		var lent fuzzTarget
		lentBuf := bytes.Clone(b)
		kept, err := protocol.UnmarshalLent(lentBuf, &lent, protocol.Limits{})
		if err != nil {
			t.Fatalf("UnmarshalLimits decoded it; UnmarshalLent: %v", err)
		}
		if !kept {
			for i := range lentBuf {
				lentBuf[i] = 0xc1 // never used in MessagePack
			}
		}
		if reLent, err := protocol.Marshal(&lent); err != nil || !bytes.Equal(re, reLent) {
			t.Fatalf("UnmarshalLent (kept %v) decoded another value, or one that changed with its input:\n%x\n%x (%v)", kept, re, reLent, err)
		}
		var v2 fuzzTarget
		if err := protocol.Unmarshal(re, &v2); err != nil {
			t.Fatalf("decoding the re-encoding %x: %v", re, err)
		}
		re2, err := protocol.Marshal(&v2)
		if err != nil || !bytes.Equal(re, re2) {
			t.Fatalf("encoding not stable:\n%x\n%x (%v)", re, re2, err)
		}
	})
}
