package compress

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/klauspost/compress/s2"
)

func compressible(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "netron titan "[i%13]
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	c := NewCodec(4 << 20)
	for _, a := range []Algorithm{Zstd, S2} {
		for _, n := range []int{1024, 64 << 10, 1 << 20} {
			msg := compressible(n)
			env, ok := c.Compress([]byte("kept"), a, msg)
			if !ok {
				t.Fatalf("%s: %d compressible bytes not worth compressing", a, n)
			}
			if !bytes.HasPrefix(env, []byte("kept")) || !IsEnvelope(env[4:]) {
				t.Fatalf("%s: envelope %x does not follow dst", a, env[:12])
			}
			if len(env)-4 >= n/8 {
				t.Errorf("%s: %d bytes compressed to %d", a, n, len(env)-4)
			}
			got, err := c.Decompress(nil, env[4:])
			if err != nil {
				t.Fatalf("%s: %v", a, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("%s: round trip changed the message", a)
			}
		}
	}
}

func TestIncompressibleIsNotWorthIt(t *testing.T) {
	c := NewCodec(1 << 20)
	msg := make([]byte, 8<<10)
	rand.Read(msg)
	for _, a := range []Algorithm{Zstd, S2} {
		dst, ok := c.Compress([]byte("x"), a, msg)
		if ok || string(dst) != "x" {
			t.Errorf("%s: random bytes reported worth compressing (%d bytes), or dst changed (%q)", a, len(dst), dst[:1])
		}
	}
}

func TestMalformedEnvelopes(t *testing.T) {
	c := NewCodec(1 << 20)
	good, _ := c.Compress(nil, S2, compressible(4096))
	goodZ, _ := c.Compress(nil, Zstd, compressible(4096))
	declare := func(env []byte, n uint32) []byte {
		e := bytes.Clone(env)
		binary.BigEndian.PutUint32(e, n)
		return e
	}
	cases := map[string][]byte{
		"short":                  {0, 0, 0, 1, FlagsEnvelope},
		"unknown algorithm":      append([]byte{0, 0, 0, 4, FlagsEnvelope, 9}, 1, 2, 3, 4),
		"over the frame limit":   declare(good, 2<<20),
		"s2 longer than said":    declare(good, 100),
		"zstd longer than said":  declare(goodZ, 100),
		"zstd shorter than said": declare(goodZ, 8000),
		"s2 garbage":             append([]byte{0, 0, 16, 0, FlagsEnvelope, byte(S2)}, bytes.Repeat([]byte{0xff}, 40)...),
		"zstd garbage":           append([]byte{0, 0, 16, 0, FlagsEnvelope, byte(Zstd)}, bytes.Repeat([]byte{0xff}, 40)...),
	}
	for name, env := range cases {
		if _, err := c.Decompress(nil, env); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestParse(t *testing.T) {
	for name, want := range map[string]Algorithm{"": None, "none": None, "zstd": Zstd, "s2": S2} {
		if a, err := Parse(name); err != nil || a != want {
			t.Errorf("Parse(%q) = %v, %v", name, a, err)
		}
	}
	if _, err := Parse("gzip"); err == nil {
		t.Error("Parse(gzip) accepted")
	}
	if !S2.Accepts([]string{"zstd", "s2"}) || Zstd.Accepts([]string{"s2"}) || None.Accepts([]string{"none"}) {
		t.Error("Accepts")
	}
}

// FuzzDecompress: no envelope, however forged, panics or decodes to more
// than the frame limit.
func FuzzDecompress(f *testing.F) {
	c := NewCodec(64 << 10)
	for _, a := range []Algorithm{Zstd, S2} {
		env, _ := c.Compress(nil, a, compressible(2048))
		f.Add(env)
	}
	f.Add([]byte{0, 0, 0, 0, FlagsEnvelope, 1})
	f.Fuzz(func(t *testing.T, env []byte) {
		out, err := c.Decompress(nil, env)
		if err != nil {
			return
		}
		if len(out) > 64<<10 || len(out) != int(binary.BigEndian.Uint32(env)) {
			t.Fatalf("decoded %d bytes, declared %d, limit %d", len(out), binary.BigEndian.Uint32(env), 64<<10)
		}
	})
}

// FuzzS2Walk: the walk that precedes the decoding of an s2 envelope
// that declares much more than its length accepts exactly the data s2
// decodes.
func FuzzS2Walk(f *testing.F) {
	for _, n := range []int{0, 100, 70 << 10} {
		f.Add(s2.Encode(nil, compressible(n)))
		f.Add(s2.Encode(nil, records(n)))
	}
	// A byte, a copy of it setting the offset, a repeat of it of 64 KiB.
	f.Add(append(binary.AppendUvarint(nil, 1+4+1<<16+4), 0, 'x', 0x01, 1, 0x1d, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := s2.DecodedLen(data)
		if err != nil || n > 1<<20 {
			return
		}
		_, derr := s2.Decode(nil, data)
		_, s := binary.Uvarint(data)
		if werr := s2Walk(data[s:], n); (werr == nil) != (derr == nil) {
			t.Fatalf("s2Walk: %v, s2.Decode: %v", werr, derr)
		}
	})
}

// TestS2RepeatsOfTheLimit: s2 data of a few bytes that does decode to
// the frame limit is not refused by the walk that precedes its decoding.
func TestS2RepeatsOfTheLimit(t *testing.T) {
	const limit = 16 << 20
	// A byte, a copy of it (offset 1, 4 bytes), and a repeat of that
	// offset for the rest: 3-byte length + 1<<16 + 4.
	rest := limit - 1 - 4 - (1 << 16) - 4
	env := binary.BigEndian.AppendUint32(nil, limit)
	env = append(env, FlagsEnvelope, byte(S2))
	env = binary.AppendUvarint(env, limit)
	env = append(env, 0, 'x', 0x01, 1, 0x1d, 0, byte(rest), byte(rest>>8), byte(rest>>16))
	out, err := NewCodec(limit).Decompress(nil, env)
	if err != nil || !bytes.Equal(out, bytes.Repeat([]byte{'x'}, limit)) {
		t.Fatalf("%d bytes of s2 data decoding to %d bytes: %d bytes back, %v", len(env)-headerLen, limit, len(out), err)
	}
}

// records is a realistic compressible message: JSON-like records.
func records(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","email":"user%d@example.com","roles":["reader","writer"],"score":%d.%d},`, i, i, i, i*7919%1000, i%10)
	}
	return b.Bytes()[:n]
}

func BenchmarkCompress(b *testing.B) {
	c := NewCodec(16 << 20)
	for _, a := range []Algorithm{S2, Zstd} {
		for _, n := range []int{4 << 10, 64 << 10} {
			msg := records(n)
			dst := make([]byte, 0, n+64)
			b.Run(fmt.Sprintf("%s/%dKiB", a, n>>10), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				var out []byte
				for b.Loop() {
					out, _ = c.Compress(dst[:0], a, msg)
				}
				b.ReportMetric(float64(len(out))/float64(n), "ratio")
			})
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	c := NewCodec(16 << 20)
	for _, a := range []Algorithm{S2, Zstd} {
		for _, n := range []int{4 << 10, 64 << 10} {
			env, _ := c.Compress(nil, a, records(n))
			dst := make([]byte, 0, n)
			b.Run(fmt.Sprintf("%s/%dKiB", a, n>>10), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := c.Decompress(dst, env); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestForgedEnvelopeAllocatesLittle: an envelope of a few bytes that
// declares a large message is refused without allocating what it
// declares (a peer would otherwise make the reader allocate the frame
// limit for every forged envelope).
func TestForgedEnvelopeAllocatesLittle(t *testing.T) {
	const limit = 16 << 20
	c := NewCodec(limit)
	// Make the zstd decoder before measuring.
	warm, _ := c.Compress(nil, Zstd, compressible(4096))
	if _, err := c.Decompress(nil, warm); err != nil {
		t.Fatal(err)
	}
	zstdHeader := func(fcs uint32) []byte {
		// A single-segment frame header with a 4-byte content size, and
		// the start of a block that is not there.
		h := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0}
		return append(binary.LittleEndian.AppendUint32(h, fcs), 0x01)
	}
	env := func(a Algorithm, body []byte) []byte {
		e := binary.BigEndian.AppendUint32(nil, limit)
		return append(append(e, FlagsEnvelope, byte(a)), body...)
	}
	cases := map[string][]byte{
		"zstd, 4 bytes":                   env(Zstd, []byte{1, 2, 3, 4}),
		"zstd, frame declaring the limit": env(Zstd, zstdHeader(limit)),
		"s2, 4 bytes":                     env(S2, []byte{1, 2, 3, 4}),
		"s2, data declaring 1 byte":       env(S2, []byte{1, 0, 'x'}),
		// s2 data whose own length header agrees with the envelope, and
		// whose elements make 1 byte of it.
		"s2, data declaring the limit": env(S2, append(binary.AppendUvarint(nil, limit), 0, 'x')),
		// And whose elements add up to it: a byte, then a repeat of the
		// last copy's offset (of the rest of the limit) before any copy.
		"s2, a repeat without an offset": env(S2, append(binary.AppendUvarint(nil, limit), 0, 'x', 0x1d, 0, 0xfb, 0xff, 0xfe)),
	}
	for name, e := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const n = 10
		for range n {
			if _, err := c.Decompress(nil, e); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: err = %v, want ErrMalformed", name, err)
			}
		}
		runtime.ReadMemStats(&after)
		if per := (after.TotalAlloc - before.TotalAlloc) / n; per > 64<<10 {
			t.Errorf("%s: a %d-byte envelope declaring %d bytes allocated %d bytes to be refused", name, len(e), limit, per)
		}
	}
}

// TestMostCompressibleRoundTrip: the most compressible message the frame
// limit allows (zeros) decodes, however few bytes it compresses to.
func TestMostCompressibleRoundTrip(t *testing.T) {
	const limit = 16 << 20
	c := NewCodec(limit)
	for _, n := range []int{limit, 128<<10 + 1, 4096} {
		msg := make([]byte, n)
		for _, a := range []Algorithm{Zstd, S2} {
			env, ok := c.Compress(nil, a, msg)
			if !ok {
				t.Fatalf("%s: %d zeros not worth compressing", a, n)
			}
			got, err := c.Decompress(nil, env)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s: %d zeros in %d bytes: %d bytes back, %v", a, n, len(env), len(got), err)
			}
			t.Logf("%s: %d zeros in %d bytes", a, n, len(env))
		}
	}
}
