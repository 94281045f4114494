package protocol_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// SplitStreamPacket checks a STREAM packet's header and trailer as
// SplitPacket does and leaves its payload to its receiver; other packets
// it splits as SplitPacket does, payload checked.
func TestSplitStreamPacket(t *testing.T) {
	item := func(data any) []byte {
		b, err := protocol.AppendPacket(nil, &protocol.Packet{ID: 9, Type: protocol.TypeStream, Impulse: true, Live: true,
			StreamID: 4, StreamIndex: 2, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := item(map[string]any{"a": []any{1, "x"}})
	p, raw, err := protocol.SplitStreamPacket(good, protocol.Limits{})
	_, want, _ := protocol.SplitPacket(good, protocol.Limits{})
	if err != nil || p.StreamID != 4 || p.StreamIndex != 2 || p.ID != 9 || !p.Impulse || !bytes.Equal(raw, want) {
		t.Fatalf("a good item: %+v %x %v, want the payload %x", p, raw, err, want)
	}
	if len(raw) != cap(raw) {
		t.Fatal("the payload's capacity reaches into the trailer")
	}

	bad := item(7)
	bad[5] = 0xc1
	if _, _, err := protocol.SplitPacket(bad, protocol.Limits{}); err == nil {
		t.Fatal("SplitPacket accepted 0xc1")
	}
	_, raw, err = protocol.SplitStreamPacket(bad, protocol.Limits{})
	if err != nil || len(raw) != 1 || raw[0] != 0xc1 {
		t.Fatalf("a malformed item's payload is its receiver's to refuse: %x, %v", raw, err)
	}
	if err := protocol.CheckValue(raw, protocol.Limits{}); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("CheckValue(c1) = %v, want ErrMalformed", err)
	}
	var v any
	if err := protocol.Unmarshal(raw, &v); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("Unmarshal(c1) = %v, want ErrMalformed", err)
	}

	for name, b := range map[string][]byte{
		"no payload":        good[:5],
		"trailer only":      append(good[:5:5], good[len(good)-8:]...),
		"short trailer":     good[:8],
		"four bytes":        good[:4],
		"type 9":            append([]byte{0, 0, 0, 1, 0x49, 0xc0}, make([]byte, 8)...),
		"over MaxFrameSize": good,
	} {
		lim := protocol.Limits{}
		if name == "over MaxFrameSize" {
			lim.MaxFrameSize = len(good) - 1
		}
		if _, _, err := protocol.SplitStreamPacket(b, lim); err == nil {
			t.Errorf("%s: accepted %x", name, b)
		}
	}

	// Other packets are checked whole: trailing bytes after a response's
	// payload are refused.
	resp, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 3, Type: protocol.TypeCall, Data: 1})
	if _, _, err := protocol.SplitStreamPacket(append(resp, 0xc0), protocol.Limits{}); !errors.Is(err, protocol.ErrTrailingBytes) {
		t.Fatalf("a call answer with a trailing byte: %v, want ErrTrailingBytes", err)
	}
}

func TestCheckValue(t *testing.T) {
	ok, _ := protocol.Marshal(map[string]any{"a": []any{1, "x", nil}})
	if err := protocol.CheckValue(ok, protocol.Limits{}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		b    []byte
		lim  protocol.Limits
		want error
	}{
		"empty":          {nil, protocol.Limits{}, protocol.ErrTruncated},
		"trailing":       {append(bytes.Clone(ok), 1), protocol.Limits{}, protocol.ErrTrailingBytes},
		"truncated":      {ok[:len(ok)-1], protocol.Limits{}, protocol.ErrTruncated},
		"too deep":       {[]byte{0x91, 0x91, 0x91, 0xc0}, protocol.Limits{MaxDepth: 2}, protocol.ErrTooDeep},
		"too large":      {ok, protocol.Limits{MaxFrameSize: len(ok) - 1}, protocol.ErrTooLarge},
		"bad ext length": {[]byte{0xd4, 0xff}, protocol.Limits{}, protocol.ErrTruncated},
	} {
		if err := protocol.CheckValue(c.b, c.lim); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
