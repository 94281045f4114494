package netron_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A Go peer that announces a stream window past the largest a Netron
// announces (Config.StreamWindow is at most 65536) and a huge byte window,
// then reads a stream's items without ever granting credit, is sent at
// most 65536 of them before the stream waits for its grant: the producer
// keeps the cost of every item sent and not granted back, so a larger
// window would let one peer make it hold 8 bytes per item for up to 2^31
// items on every stream it opens.
func TestStreamWindowAnnouncedByPeerIsCapped(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{StreamIdleTimeout: time.Second}, nil)
	c := dialRaw(t, s.addr)
	c.serverID()
	c.write([]byte(`{"type":"client-id","id":"greedy","titan":{"v":1,"window":2147483647,"windowBytes":4611686018427387904}}`))
	const items, maxWindow = 70000, 65536
	p := binary.BigEndian.AppendUint32(nil, 9)
	p = append(p, 0x43, 0x94, 0xae)
	p = append(p, "producer@1.0.0"...)
	p = append(p, 0xa5, 'i', 't', 'e', 'm', 's', 0xce)
	p = binary.BigEndian.AppendUint32(p, items)
	p = append(p, 1)
	c.write(p)
	if ref := c.read(); len(ref) < 5 || ref[4]&0x0f != 0x03 {
		t.Fatalf("answer %q, want the stream reference", ref)
	}
	got := 0
	for {
		f, err := c.readFrame(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d items without a grant: %v; want the stream to end, reader idle", got, err)
		}
		if len(f) < 5 {
			t.Fatalf("short frame %q", f)
		}
		switch f[4] & 0x0f {
		case 0x05: // a stream item
			if got++; got > maxWindow {
				t.Fatalf("sent %d stream items with no credit granted; want at most %d", got, maxWindow)
			}
		case 0x06, 0x07: // the stream ends: its reader granted nothing for StreamIdleTimeout
			if got != maxWindow {
				t.Fatalf("stream ended after %d items; want the window of %d", got, maxWindow)
			}
			return
		}
	}
}
