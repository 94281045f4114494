package netron_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// Wide is a service whose method takes a list of records much larger in
// memory than their smallest wire form (a nil: one byte).
type Wide struct{}

type wideItem struct {
	Name string
	Pad  [1024]byte
}

func (Wide) Count(_ context.Context, items []wideItem) (int, error) { return len(items), nil }

// A call whose argument is a list of a million nils, for a method taking
// a list of 1 KiB records, is refused before the server allocates the
// 1 GiB it would decode to; the connection goes on being served.
func TestAcceptanceArgumentDecodedSizeBounded(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	if err := s.n.Register("wide", "1.0.0", Wide{}); err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, s.addr)
	c.handshake("decoded-size")
	n := 1 << 20
	pkt := []byte{0, 0, 0, 50, 0x43, 0x93}
	pkt = append(pkt, 0xaa)
	pkt = append(pkt, "wide@1.0.0"...)
	pkt = append(pkt, 0xa5)
	pkt = append(pkt, "count"...)
	pkt = append(pkt, 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	pkt = append(pkt, bytes.Repeat([]byte{0xc0}, n)...)
	c.write(pkt)
	msg := c.read()
	answer, err := protocol.DecodePacket(msg, protocol.Limits{})
	if err != nil {
		t.Fatalf("undecodable answer % x: %v", msg[:min(len(msg), 64)], err)
	}
	te, ok := answer.Data.(*protocol.TitanError)
	if answer.ID != 50 || !answer.Error || !ok || !bytes.Contains([]byte(te.Message), []byte("decoded")) {
		t.Fatalf("answer to a list of a million nils: id %d, error %v, %#v; want an error naming the decoded size", answer.ID, answer.Error, answer.Data)
	}
	expectAdd(t, c, 51, 2, 3)
}
