package netron_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The items of a stream that a connection may not read (it reads
// maxStreamsPerPeer streams already) are refused with a message telling
// their producer to stop. To a Go peer that is the reader's cancel, a
// STREAM_CLOSE without the impulse bit: with it, a Go producer takes the
// message for the end of a stream it reads itself, files that stream in
// its own table (a place of its maxStreamsPerPeer until its idle timeout)
// and sends on.
func TestStreamOverLimitStopsGoProducer(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{MaxStreamsPerPeer: 1}, nil)
	c := dialRaw(t, s.addr)
	c.serverID()
	c.write([]byte(`{"type":"client-id","id":"go-producer","titan":{"v":1,"window":16}}`))
	item := func(id, stream uint32) []byte {
		b, err := protocol.AppendPacket(nil, &protocol.Packet{ID: id, Type: protocol.TypeStream, Impulse: true,
			Live: true, StreamID: stream, StreamIndex: 0, Data: "item"})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c.write(item(1, 1000)) // takes the connection's only place
	c.write(item(2, 2000)) // over the limit
	for {
		f, err := c.readFrame(5 * time.Second)
		if err != nil {
			t.Fatalf("no STREAM_CLOSE for the stream over the limit: %v", err)
		}
		pkt, err := protocol.DecodePacket(f, protocol.Limits{})
		if err != nil || pkt.Type != protocol.TypeStreamClose {
			continue
		}
		if pkt.Impulse {
			t.Fatalf("stream over the limit refused with %+v: a STREAM_CLOSE with the impulse bit, which a Go producer takes for the end of a stream it reads; want the reader's cancel (no impulse bit)", pkt)
		}
		o, _ := pkt.Data.(protocol.Object)
		if id, _ := o.Get("streamId"); fmt.Sprint(id) != "2000" {
			t.Fatalf("STREAM_CLOSE %+v names stream %v, want 2000", pkt, id)
		}
		return
	}
}
