package protocol_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// wideRecord is a Go type much larger in memory than its smallest
// MessagePack form (nil, or an empty map: one byte).
type wideRecord struct {
	Name string
	Pad  [4096]byte
}

// array32 returns an array32 header of n elements, each the byte elem.
func array32(n int, elem byte) []byte {
	b := []byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	return append(b, bytes.Repeat([]byte{elem}, n)...)
}

// A frame of one-byte elements decoded into a list of a wide Go type
// would take thousands of times its size: the decoder refuses to allocate
// more than 8 times the frame limit for one value, naming the list, before
// allocating it.
func TestDecodedSizeIsBounded(t *testing.T) {
	n := 1 << 20 // 1 Mi elements: 4 GiB of wideRecord
	lim := protocol.Limits{MaxFrameSize: 2 << 20}
	for _, tc := range []struct {
		name string
		msg  []byte
		into func() any
	}{
		{"list of nil", array32(n, 0xc0), func() any { return new([]wideRecord) }},
		{"list of empty maps", array32(n, 0x80), func() any { return new([]wideRecord) }},
		{"list of pointers", array32(n, 0x80), func() any { return new([]*wideRecord) }},
		{"map of empty values", func() []byte {
			m := 1<<16 - 1 // a map16 (the profile's largest): 270 MB of wideRecord
			b := []byte{0xde, byte(m >> 8), byte(m)}
			for i := range m {
				b = append(b, 0xce, byte(i>>24), byte(i>>16), byte(i>>8), byte(i), 0x80)
			}
			return b
		}(), func() any { return new(map[uint32]wideRecord) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := protocol.UnmarshalLimits(tc.msg, tc.into(), lim)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, protocol.ErrTooLarge) || !strings.Contains(err.Error(), "decoded") {
				t.Fatalf("decoding %d one-byte elements into wide records: %v, want ErrTooLarge naming the decoded size", n, err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
				t.Errorf("refusing it allocated %d MiB", got>>20)
			}
		})
	}
	// What the budget allows decodes: a list of small integers at the
	// frame limit takes 8 times its wire size as []int64.
	var ints []int64
	if err := protocol.UnmarshalLimits(array32(2<<20-5, 0x01), &ints, lim); err != nil || len(ints) != 2<<20-5 {
		t.Fatalf("a frame of small integers into []int64: %d, %v", len(ints), err)
	}
}
