package netron

import (
	"context"
	be "encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// A peer's STREAM_ERROR (or STREAM_CLOSE reason) for a stream nobody has
// claimed yet is kept until its reader claims it or the idle timeout: the
// message it keeps is bounded, or a peer could make a connection hold
// MaxStreamsPerPeer × MaxFrameSize bytes (16 GiB by default) outside
// MaxStreamBytesPerPeer.
func TestStreamEndMessageKeptIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, addr := ServeForTest(t, Config{}, "tcp://127.0.0.1:0", nil)
	nc, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	write := func(msg []byte) {
		if _, err := nc.Write(append(be.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...)); err != nil {
			t.Fatal(err)
		}
	}
	write([]byte(`{"type":"client-id","id":"x"}`))
	for i, typ := range []protocol.Type{protocol.TypeStreamError, protocol.TypeStreamClose} {
		key := "message"
		if typ == protocol.TypeStreamClose {
			key = "reason"
		}
		pkt, err := protocol.AppendPacket(nil, &protocol.Packet{ID: uint32(i + 1), Type: typ, Impulse: true,
			Data: protocol.Object{{Key: "streamId", Value: 77 + i}, {Key: key, Value: strings.Repeat("x", 1<<20)}}})
		if err != nil {
			t.Fatal(err)
		}
		write(pkt)
	}
	var c *conn
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ps := n.Peers(); len(ps) == 1 {
			if c = ps[0].cur.Load(); c.inbound.Len() == 2 {
				break
			}
		}
	}
	if c == nil || c.inbound.Len() != 2 {
		t.Fatal("the server did not file the ended streams")
	}
	for _, id := range []uint32{77, 78} {
		rs := c.inbound.Claim(id)
		_, _, err := rs.Take(ctx, time.Second, nil)
		if err == nil || len(err.Error()) > 8<<10 {
			t.Fatalf("stream %d ended with a message of %d bytes, want at most 8 KiB", id, len(err.Error()))
		}
	}
}
