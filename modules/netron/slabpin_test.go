package netron_test

import (
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Small stream items are kept in shared slabs of the reader; one unread
// item must not keep a whole slab alive uncounted. A client sends, again
// and again, one tiny item of a stream nobody reads and then packets the
// server drops (credit grants for a stream it does not produce), which
// fill the rest of the slab: the server holds what maxStreamBytesPerPeer
// (1 MiB) allows and little more, not a slab per tiny item.
func TestAcceptanceUnreadTinyItemsBetweenDroppedPackets(t *testing.T) {
	if testing.Short() {
		t.Skip("flood test")
	}
	s, _ := netronServer(t, "tcp", netron.Config{MaxStreamBytesPerPeer: 1 << 20}, nil)
	good := keepServing(t, s.addr, false)
	base := liveHeap()
	nc := dialTCP(t, s.addr)
	filler := packetFrame(t, &protocol.Packet{ID: 1, Type: protocol.TypeStream, StreamID: 99999, Data: strings.Repeat("f", 900)})
	var burst []byte
	for range 34 {
		burst = append(burst, filler...)
	}
	const cycles = 4000 // ~128 MiB sent, ~0.3 MiB of items counted
	for i := range cycles {
		item := packetFrame(t, &protocol.Packet{ID: uint32(i + 2), Type: protocol.TypeStream, Impulse: true,
			StreamID: uint32(700 + i%4), StreamIndex: uint32(i / 4), Data: 1})
		if _, err := nc.Write(append(item, burst...)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	time.Sleep(300 * time.Millisecond) // the server files what it has read
	held := liveHeap()
	t.Logf("live heap after %d unread one-byte items between dropped packets: %d MiB over base", cycles, (held-base)>>20)
	if held > base+16<<20 {
		t.Errorf("the server holds %d MiB for unread stream items counted under maxStreamBytesPerPeer (1 MiB)", (held-base)>>20)
	}
	good.check(t, 10)
}
