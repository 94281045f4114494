package transporttest

import (
	"testing"

	"github.com/titanframework/titan/modules/netron/transport"
)

// BenchmarkRoundTrip measures one round trip over scheme with messages of 32 B and 4 KiB: the
// client writes, the server reads and writes the message back, the client reads it.
func BenchmarkRoundTrip(b *testing.B, scheme string) {
	for _, bc := range []struct {
		name string
		size int
	}{{"32B", 32}, {"4KiB", 4 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			client, server := Pair(b, scheme, transport.Options{})
			// Reused one-message batches: a variadic call through an interface would otherwise
			// allocate its argument slice, a cost of the caller, not of the transport.
			out, back := [][]byte{pattern(bc.size, 1)}, [][]byte{nil}
			b.ReportAllocs()
			b.SetBytes(int64(2 * bc.size))
			for b.Loop() {
				if err := client.WriteMessages(out...); err != nil {
					b.Fatal(err)
				}
				m, err := server.ReadMessage()
				if err != nil {
					b.Fatal(err)
				}
				back[0] = m
				if err := server.WriteMessages(back...); err != nil {
					b.Fatal(err)
				}
				if _, err := client.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
