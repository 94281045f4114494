package protocol_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// TestVectors checks every byte vector of shared/protocol/vectors.json:
// encoding the described value gives the exact bytes, decoding the bytes gives
// the described value, and re-encoding the decoded value gives the bytes again.
func TestVectors(t *testing.T) {
	root := loadVectors(t)
	counts := map[string]int{}
	for _, raw := range root.arr("vectors") {
		v := raw.(jobj)
		kind := v.str("kind")
		counts[kind]++
		t.Run(v.str("name"), func(t *testing.T) {
			conv := tagged{t}
			b := mustHex(t, v.str("hex"))
			switch kind {
			case "msgpack_value":
				checkValueVector(t, conv, v, b)
			case "packet":
				checkPacketBytes(t, conv.packet(v.obj("packet")), b)
			case "tcp_frame":
				checkTCPFrame(t, conv, v, b)
			case "tcp_inbound_trace":
				checkInboundTrace(t, conv, v, b)
			case "ws_message":
				if string(b) != v.str("json") {
					t.Fatalf("ws message bytes %q differ from its JSON %q", b, v.str("json"))
				}
				checkJSONFrame(t, b)
			case "quirk":
				checkQuirk(t, conv, v, b)
			default:
				t.Fatalf("unknown vector kind %q", kind)
			}
		})
	}
	if counts["msgpack_value"] == 0 || counts["packet"] == 0 {
		t.Fatalf("no vectors found: %v", counts)
	}
}

func checkValueVector(t *testing.T, conv tagged, v jobj, b []byte) {
	val, _ := v.get("value")
	want := conv.value(val)
	got, err := protocol.Marshal(want)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("Marshal:\n got %x\nwant %x", got, b)
	}
	// A lossy vector (roundtrip:false, -0) says what decoding yields.
	if d, ok := v.get("decoded"); ok {
		want = conv.value(d)
	} else if !v.flag("roundtrip") {
		t.Fatalf("roundtrip:false vector without a decoded value")
	}
	dec, err := protocol.DecodeValue(b, protocol.Limits{})
	if err != nil {
		t.Fatalf("DecodeValue: %v", err)
	}
	if !sameValue(want, dec) {
		t.Fatalf("DecodeValue = %#v, want %#v", dec, want)
	}
	re, err := protocol.Marshal(dec)
	if err != nil {
		t.Fatalf("re-Marshal: %v", err)
	}
	if !bytes.Equal(re, b) {
		t.Fatalf("re-encoding the decoded value:\n got %x\nwant %x", re, b)
	}
}

// checkPacketBytes encodes p, decodes the bytes, and re-encodes the result.
func checkPacketBytes(t *testing.T, p protocol.Packet, b []byte) {
	t.Helper()
	got, err := protocol.AppendPacket(nil, &p)
	if err != nil {
		t.Fatalf("AppendPacket: %v", err)
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("AppendPacket:\n got %x\nwant %x", got, b)
	}
	checkPacketDecode(t, p, b)
}

// checkPacketDecode decodes b, compares it with want, and re-encodes it.
func checkPacketDecode(t *testing.T, want protocol.Packet, b []byte) {
	t.Helper()
	dec, err := protocol.DecodePacket(b, protocol.Limits{})
	if err != nil {
		t.Fatalf("DecodePacket: %v", err)
	}
	if !samePacket(want, dec) {
		t.Fatalf("DecodePacket = %+v, want %+v", dec, want)
	}
	re, err := protocol.AppendPacket(nil, &dec)
	if err != nil {
		t.Fatalf("re-AppendPacket: %v", err)
	}
	if !bytes.Equal(re, b) {
		t.Fatalf("re-encoding the decoded packet:\n got %x\nwant %x", re, b)
	}
	// SplitPacket agrees with DecodePacket, and the raw payload decodes alike.
	sp, raw, err := protocol.SplitPacket(b, protocol.Limits{})
	if err != nil {
		t.Fatalf("SplitPacket: %v", err)
	}
	var data any
	if err := protocol.Unmarshal(raw, &data); err != nil {
		t.Fatalf("Unmarshal(payload): %v", err)
	}
	sp.Data = data
	if !samePacket(sp, dec) {
		t.Fatalf("SplitPacket+Unmarshal = %+v, DecodePacket = %+v", sp, dec)
	}
}

// checkJSONFrame asserts that a handshake JSON text starts with '{' (how
// titan receivers tell it apart) and is refused as a packet.
func checkJSONFrame(t *testing.T, b []byte) {
	t.Helper()
	if len(b) == 0 || b[0] != '{' {
		t.Fatalf("JSON frame does not start with '{': %x", b)
	}
	if _, err := protocol.DecodePacket(b, protocol.Limits{}); err == nil {
		t.Fatalf("DecodePacket accepted a JSON handshake frame")
	}
}

func splitTCPFrames(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var frames [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("partial length prefix %x", b)
		}
		n := int(binary.BigEndian.Uint32(b))
		if len(b)-4 < n {
			t.Fatalf("frame of %d bytes truncated", n)
		}
		frames = append(frames, b[4:4+n])
		b = b[4+n:]
	}
	return frames
}

func checkTCPFrame(t *testing.T, conv tagged, v jobj, b []byte) {
	frames := splitTCPFrames(t, b)
	if len(frames) != 1 {
		t.Fatalf("%d frames, want 1", len(frames))
	}
	if p := v.obj("packet"); p != nil {
		checkPacketBytes(t, conv.packet(p), frames[0])
		return
	}
	if string(frames[0]) != v.str("json") {
		t.Fatalf("frame %q differs from its JSON %q", frames[0], v.str("json"))
	}
	checkJSONFrame(t, frames[0])
}

func checkInboundTrace(t *testing.T, conv tagged, v jobj, b []byte) {
	frames := splitTCPFrames(t, b)
	events := v.arr("events")
	if len(frames) != len(events) {
		t.Fatalf("%d frames, %d events", len(frames), len(events))
	}
	for i, raw := range events {
		ev := raw.(jobj)
		f := frames[i]
		switch ev.str("event") {
		case "packet":
			checkPacketBytes(t, conv.packet(ev.obj("packet")), f)
		default:
			if string(f) != ev.str("text") {
				t.Fatalf("frame %d = %q, want text %q", i, f, ev.str("text"))
			}
			checkJSONFrame(t, f)
		}
	}
}

// checkQuirk: netron-browser decodes the JSON id frame as a bogus PING packet
// (it ignores trailing bytes); titan refuses it, and so do we. The header and
// first payload byte decode to what the browser saw.
func checkQuirk(t *testing.T, conv tagged, v jobj, b []byte) {
	_, err := protocol.DecodePacket(b, protocol.Limits{})
	if !v.flag("titan_decode_throws") {
		t.Fatalf("vector no longer says titan refuses the frame")
	}
	wantErr(t, err, protocol.ErrTrailingBytes)
	want := conv.packet(v.obj("browser_decode"))
	got, err := protocol.DecodePacket(b[:6], protocol.Limits{})
	if err != nil {
		t.Fatalf("DecodePacket(prefix): %v", err)
	}
	if !samePacket(want, got) {
		t.Fatalf("prefix decodes to %+v, browser saw %+v", got, want)
	}
}

// acceptanceErr is the sentinel the Go decoder returns for each refused case.
var acceptanceErr = map[string]error{
	"decode_map32":                  protocol.ErrUnsupported,
	"decode_never_used_c1":          protocol.ErrMalformed,
	"decode_ext_unknown_type":       protocol.ErrUnsupported,
	"decode_ext0_nonzero":           protocol.ErrMalformed,
	"decode_empty":                  protocol.ErrTruncated,
	"decode_packet_trailing_bytes":  protocol.ErrTrailingBytes,
	"decode_packet_type_8":          protocol.ErrUnknownType,
	"decode_packet_header_only":     protocol.ErrTruncated,
	"decode_stream_missing_trailer": protocol.ErrTruncated,
}

// TestDecoderAcceptance checks each hand-written byte string against what the
// two TypeScript decoders did. Where they differ the Go decoder follows the
// stricter one: decode_packet_trailing_bytes (titan refuses, browser accepts)
// and decode_packet_type_8 (browser refuses, titan accepts) are refused.
func TestDecoderAcceptance(t *testing.T) {
	root := loadVectors(t)
	cases := root.arr("decoder_acceptance")
	if len(cases) == 0 {
		t.Fatal("no decoder_acceptance cases")
	}
	for _, raw := range cases {
		c := raw.(jobj)
		t.Run(c.str("name"), func(t *testing.T) {
			conv := tagged{t}
			b, err := hex.DecodeString(c.str("hex"))
			if err != nil {
				t.Fatal(err)
			}
			titan, browser := c.obj("titan_decoder"), c.obj("browser_decoder")
			accept := titan.flag("ok") && browser.flag("ok")
			var got any
			switch c.str("kind") {
			case "msgpack_decode_only":
				got, err = protocol.DecodeValue(b, protocol.Limits{})
			case "packet_decode_only":
				var p protocol.Packet
				p, err = protocol.DecodePacket(b, protocol.Limits{})
				if err == nil {
					got = p
				}
			default:
				t.Fatalf("unknown kind %q", c.str("kind"))
			}
			if !accept {
				if err == nil {
					t.Fatalf("accepted %x (titan ok=%v, browser ok=%v), want refused", b, titan.flag("ok"), browser.flag("ok"))
				}
				if s, ok := acceptanceErr[c.str("name")]; ok {
					wantErr(t, err, s)
				} else {
					t.Fatalf("no expected sentinel listed for refused case (error %v)", err)
				}
				var de *protocol.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error %v is not a *DecodeError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused %x: %v", b, err)
			}
			wantVal, _ := titan.get("value")
			if p, ok := got.(protocol.Packet); ok {
				if !samePacket(conv.packet(wantVal.(jobj)), p) {
					t.Fatalf("decoded %+v, want %v", p, wantVal)
				}
				return
			}
			// TypeScript reads uint64/int64 as a (lossy) number; Go keeps every
			// bit (decode_uint64_max), so compare with the JavaScript view.
			if !sameValue(conv.value(wantVal), got) && !sameValue(conv.value(wantVal), jsView(got)) {
				t.Fatalf("decoded %#v, want %#v", got, conv.value(wantVal))
			}
		})
	}
}

// TestSessions decodes and re-encodes every packet frame of the live captures
// and compares it with the captured decoded form.
func TestSessions(t *testing.T) {
	root := loadVectors(t)
	sessions := root.arr("sessions")
	if len(sessions) == 0 {
		t.Fatal("no sessions")
	}
	packets := 0
	for _, raw := range sessions {
		s := raw.(jobj)
		t.Run(s.str("name"), func(t *testing.T) {
			conv := tagged{t}
			for i, fr := range s.arr("frames") {
				f := fr.(jobj)
				hexv, hasHex := f.get("hex")
				pk := f.obj("packet")
				js, isJSON := f.get("json")
				if !hasHex {
					continue // close events
				}
				if hexv == nil {
					// Redacted frame: only its decoded form is known.
					if pk == nil {
						t.Fatalf("frame %d: no hex and no packet", i)
					}
					p := conv.packet(pk)
					b, err := protocol.AppendPacket(nil, &p)
					if err != nil {
						t.Fatalf("frame %d: AppendPacket: %v", i, err)
					}
					checkPacketDecode(t, p, b)
					continue
				}
				b := mustHex(t, hexv.(string))
				if _, ok := f.get("length_prefix"); ok {
					frames := splitTCPFrames(t, b)
					if len(frames) != 1 {
						t.Fatalf("frame %d: %d TCP frames", i, len(frames))
					}
					b = frames[0]
				}
				switch {
				case pk != nil:
					if !f.flag("roundtrip") {
						t.Fatalf("frame %d: roundtrip is not true", i)
					}
					checkPacketBytes(t, conv.packet(pk), b)
					packets++
				case isJSON && js != nil:
					checkJSONFrame(t, b)
				default:
					t.Fatalf("frame %d: neither packet nor JSON", i)
				}
			}
		})
	}
	if packets == 0 {
		t.Fatal("no session packets checked")
	}
}

// jsView returns the number JavaScript would see for a 64-bit integer.
func jsView(v any) any {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case uint64:
		return float64(n)
	}
	return v
}
