package session

import (
	"errors"
	"io"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// script is a transport.Conn that reads a fixed list of messages, then
// io.EOF; it reuses one buffer for every message, as transports do.
type script struct {
	msgs [][]byte
	buf  []byte
}

func (s *script) ReadMessage() ([]byte, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	s.buf = append(s.buf[:0], s.msgs[0]...)
	s.msgs = s.msgs[1:]
	return s.buf, nil
}
func (s *script) WriteMessages(...[]byte) error { return nil }
func (s *script) Close() error                  { return nil }
func (s *script) LocalAddr() string             { return "script:" }
func (s *script) RemoteAddr() string            { return "script:" }

// record is a Handler that writes down what it gets.
type record struct {
	texts   []string // "strict:" or "loose:" and the text
	packets []protocol.Packet
	data    []protocol.RawValue // as handed over: decoded after the run
	pooled  []bool
	bad     []error
	accept  bool // Text's answer to a strict message
}

func (r *record) Text(msg []byte, strict bool) bool {
	kind := "loose:"
	if strict {
		kind = "strict:"
	}
	r.texts = append(r.texts, kind+string(msg))
	return !strict || r.accept
}

func (r *record) Packet(pkt protocol.Packet, payload protocol.RawValue, frame *[]byte) {
	r.packets, r.data, r.pooled = append(r.packets, pkt), append(r.data, payload), append(r.pooled, frame != nil)
}

func (r *record) strings(t *testing.T) []string {
	out := make([]string, len(r.data))
	for i, d := range r.data {
		if err := protocol.Unmarshal(d, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (r *record) Bad(frame []byte, err error) { r.bad = append(r.bad, err) }

func packet(t *testing.T, pkt protocol.Packet) []byte {
	t.Helper()
	b, err := protocol.AppendPacket(nil, &pkt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The reader hands the handshake, the packets (requests and answers in
// pooled frames, stream items not), bad packets and a late client-id to
// the handler, keeps each payload past the transport's reuse of its
// buffer, counts its reads and returns the read error that ended it.
func TestReader(t *testing.T) {
	msgs := [][]byte{
		[]byte(`{"id":"peer"}`),
		packet(t, protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true, Data: "call"}),
		{},
		packet(t, protocol.Packet{ID: 2, Type: protocol.TypeStream, Impulse: true, StreamID: 3, Data: "item"}),
		{0, 0, 0, 9, 0x4f, 0xc1}, // an unknown type, not a packet
		[]byte(`{"id":"late"}`),
		[]byte(`{"id":"refused"}`),
	}
	rec := &record{}
	tr := &script{msgs: msgs}
	r := NewReader(tr, protocol.Limits{}, rec)
	// The handler refuses the last text; accept it before then.
	rec.accept = true
	tr.msgs = msgs[:6]
	if err := r.Run(); !errors.Is(err, io.EOF) {
		t.Fatalf("Run returned %v; want the transport's io.EOF", err)
	}
	rec.accept = false
	tr.msgs = msgs[6:]
	_ = r.Run()
	if r.Reads() != uint64(len(msgs))+2 {
		t.Fatalf("%d reads counted; want %d", r.Reads(), len(msgs)+2)
	}
	wantTexts := []string{`loose:{"id":"peer"}`, `strict:{"id":"late"}`, `strict:{"id":"refused"}`}
	if len(rec.texts) != len(wantTexts) {
		t.Fatalf("texts %q; want %q", rec.texts, wantTexts)
	}
	for i := range wantTexts {
		if rec.texts[i] != wantTexts[i] {
			t.Fatalf("texts %q; want %q", rec.texts, wantTexts)
		}
	}
	// Decoded after every later read reused the transport's buffer.
	if data := rec.strings(t); len(rec.packets) != 2 || data[0] != "call" || data[1] != "item" || !rec.pooled[0] || rec.pooled[1] {
		t.Fatalf("packets %v %q pooled %v; want the call (pooled) and the item (not)", rec.packets, data, rec.pooled)
	}
	if len(rec.bad) != 2 {
		t.Fatalf("bad messages %v; want the unknown type and the refused text", rec.bad)
	}
}

// A frame given back with KeepFrame is never handed out again (a decoded
// value is a slice of it), while its holder is; one given back with
// PutFrame is reused.
func TestKeepFrame(t *testing.T) {
	for range 100 {
		kept, h := getFrame(4096)
		for i := range kept {
			kept[i] = 7
		}
		KeepFrame(h)
		for range 10 {
			b, h := getFrame(4096)
			if &b[0] == &kept[0] {
				t.Fatal("a kept frame was handed out again")
			}
			for i := range b {
				b[i] = 1
			}
			PutFrame(h)
		}
		for i, c := range kept {
			if c != 7 {
				t.Fatalf("byte %d of a kept frame was overwritten", i)
			}
		}
	}
	KeepFrame(nil) // a frame too large for the pool has no holder
}
