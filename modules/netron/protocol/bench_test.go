package protocol_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

type echoIn struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

const benchDefID = "01900a1b-2c3d-7e4f-8a5b-6c7d8e9f0a1b"

var payloadSizes = []struct {
	name string
	size int
}{{"32B", 32}, {"4KiB", 4096}}

func typedCall(text string) *protocol.Packet {
	return &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{benchDefID, "echo", &echoIn{Text: text, Count: 3}}}
}

func genericCall(text string) *protocol.Packet {
	return &protocol.Packet{ID: 1, Type: protocol.TypeCall, Impulse: true,
		Data: []any{benchDefID, "echo", protocol.Object{{Key: "text", Value: text}, {Key: "count", Value: int64(3)}}}}
}

func BenchmarkEncodeCall(b *testing.B) {
	for _, s := range payloadSizes {
		text := strings.Repeat("x", s.size)
		for _, c := range []struct {
			name string
			p    *protocol.Packet
		}{{"typed", typedCall(text)}, {"generic", genericCall(text)}} {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				buf := make([]byte, 0, 8192)
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if buf, err = protocol.AppendPacket(buf[:0], c.p); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(len(buf)))
			})
		}
	}
}

func BenchmarkDecodeCall(b *testing.B) {
	for _, s := range payloadSizes {
		text := strings.Repeat("x", s.size)
		frame, err := protocol.AppendPacket(nil, typedCall(text))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("generic/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := protocol.DecodePacket(frame, protocol.Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("typed/"+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			elems := make([]protocol.RawValue, 0, 8)
			for b.Loop() {
				p, raw, err := protocol.SplitPacket(frame, protocol.Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if elems, err = protocol.SplitArray(raw, elems[:0], protocol.Limits{}); err != nil || len(elems) != 3 {
					b.Fatal(err)
				}
				var def, method string
				var in echoIn
				if err := protocol.Unmarshal(elems[0], &def); err != nil {
					b.Fatal(err)
				}
				if err := protocol.Unmarshal(elems[1], &method); err != nil {
					b.Fatal(err)
				}
				if err := protocol.Unmarshal(elems[2], &in); err != nil {
					b.Fatal(err)
				}
				if p.ID != 1 || in.Count != 3 || len(in.Text) != s.size {
					b.Fatal("bad decode")
				}
			}
		})
	}
}

type benchAddress struct {
	Street string `json:"street"`
	City   string `json:"city"`
	Zip    string `json:"zip"`
}

type benchUser struct {
	ID      int64        `json:"id"`
	Name    string       `json:"name"`
	Email   string       `json:"email"`
	Age     int32        `json:"age"`
	Score   float64      `json:"score"`
	Active  bool         `json:"active"`
	Role    string       `json:"role"`
	Tags    []string     `json:"tags"`
	Address benchAddress `json:"address"`
}

// BenchmarkUnmarshalStruct decodes a realistic message into its Go type.
func BenchmarkUnmarshalStruct(b *testing.B) {
	u := benchUser{ID: 1000, Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 97.25, Active: true,
		Role: "member", Tags: []string{"mathematics", "engines", "poetry"}, Address: benchAddress{"12 St James's Square", "London", "10001"}}
	raw, err := protocol.Marshal(u)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var out benchUser
		if err := protocol.Unmarshal(raw, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalStruct encodes the message of BenchmarkUnmarshalStruct
// into a reused buffer.
func BenchmarkMarshalStruct(b *testing.B) {
	u := benchUser{ID: 1000, Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 97.25, Active: true,
		Role: "member", Tags: []string{"mathematics", "engines", "poetry"}, Address: benchAddress{"12 St James's Square", "London", "10001"}}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = protocol.AppendValue(buf[:0], &u); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkSplitPacket checks a STREAM packet carrying a realistic message
// (the walk every received packet gets before its payload is decoded,
// but stream items: BenchmarkSplitStreamPacket).
func BenchmarkSplitPacket(b *testing.B) { benchSplit(b, protocol.SplitPacket) }

// BenchmarkSplitStreamPacket splits the same STREAM packet as a reader of
// stream items does: header and trailer checked, the payload left to its
// decoder.
func BenchmarkSplitStreamPacket(b *testing.B) { benchSplit(b, protocol.SplitStreamPacket) }

func benchSplit(b *testing.B, split func([]byte, protocol.Limits) (protocol.Packet, protocol.RawValue, error)) {
	u := benchUser{ID: 1000, Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 97.25, Active: true,
		Role: "member", Tags: []string{"mathematics", "engines", "poetry"}, Address: benchAddress{"12 St James's Square", "London", "10001"}}
	frame, err := protocol.AppendPacket(nil, &protocol.Packet{ID: 7, Type: protocol.TypeStream, StreamID: 3, StreamIndex: 1, Data: u})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := split(frame, protocol.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendValueJSONPage writes a page of 50 realistic messages as
// JSON, as the HTTP gateway writes an answer and its client a request.
func BenchmarkAppendValueJSONPage(b *testing.B) {
	page := benchPage()
	buf, err := protocol.AppendValueJSON(nil, &page)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = protocol.AppendValueJSON(buf[:0], &page); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONPage reads the JSON of a page of 50 realistic
// messages into MessagePack, as the HTTP gateway reads a request's input
// and its client an answer's data.
func BenchmarkAppendJSONPage(b *testing.B) {
	page := benchPage()
	text, err := protocol.AppendValueJSON(nil, &page)
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if buf, err = protocol.AppendJSON(buf[:0], text); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPage is a page of 50 realistic messages.
func benchPage() []benchUser {
	page := make([]benchUser, 50)
	for i := range page {
		page[i] = benchUser{ID: int64(1000 + i), Name: "Ada Lovelace", Email: "ada@example.com", Age: 36, Score: 97.25, Active: i%2 == 0,
			Role: "member", Tags: []string{"mathematics", "engines", "poetry"}, Address: benchAddress{"12 St James's Square", "London", "10001"}}
	}
	return page
}
