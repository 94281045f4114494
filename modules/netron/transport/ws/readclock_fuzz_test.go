package ws

import (
	"testing"
)

// FuzzReadClock follows arbitrary bytes as WebSocket frames: it never
// panics, and the state it ends in does not depend on how the bytes were
// split between reads.
func FuzzReadClock(f *testing.F) {
	f.Add([]byte{0x82, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}, uint8(3))
	f.Add([]byte{0x02, 0x81, 0, 0, 0, 0, 'a', 0x80, 0x81, 0, 0, 0, 0, 'b'}, uint8(7))
	f.Add([]byte{0x89, 0x80, 1, 2, 3, 4, 0x82, 0xfe, 0x01, 0x00}, uint8(9))
	f.Add([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		var whole readClock
		_, busyWhole := whole.scan(data)
		k := int(split)
		if k > len(data) {
			k = len(data)
		}
		var parts readClock
		parts.scan(data[:k])
		_, busyParts := parts.scan(data[k:])
		if whole.hlen != parts.hlen || whole.left != parts.left || whole.fragmented != parts.fragmented || whole.hdr != parts.hdr {
			t.Fatalf("state after one read %+v, after reads split at %d %+v", whole, k, parts)
		}
		if len(data) > 0 && busyWhole != busyParts {
			t.Fatalf("busy %v in one read, %v split at %d", busyWhole, busyParts, k)
		}
	})
}
