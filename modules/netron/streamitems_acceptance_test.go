package netron_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"iter"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// itemsServer is a hand-written server that answers a call of "items" with
// a stream whose second item is not a well-formed value (the never-used
// byte 0xc1), followed by a good item and the end; a call of "gap" with
// the same stream without its second item; other calls get 3.
func itemsServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		c := &rawConn{t: t, nc: nc}
		hello, _ := json.Marshal(map[string]string{"type": "id", "id": "items-server"})
		send := func(b []byte) bool {
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			_, err := nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...))
			return err == nil
		}
		if !send(hello) {
			return
		}
		if _, err := c.readFrame(5 * time.Second); err != nil { // client-id
			return
		}
		streams := uint32(0)
		for {
			msg, err := c.readFrame(10 * time.Second)
			if err != nil {
				return
			}
			pkt, err := protocol.DecodePacket(msg, protocol.Limits{})
			if err != nil {
				return
			}
			call, _ := pkt.Data.([]any)
			if pkt.Type != protocol.TypeCall || len(call) < 2 || (call[1] != "items" && call[1] != "gap") {
				b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: pkt.ID, Type: pkt.Type, Data: 3})
				if !send(b) {
					return
				}
				continue
			}
			streams++
			ref := &protocol.StreamReference{StreamID: streams, Kind: protocol.StreamWritable, IsLive: true, PeerID: "items-server"}
			b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: pkt.ID, Type: pkt.Type, Data: ref})
			if !send(b) {
				return
			}
			item := func(index uint32, data any, eos bool) []byte {
				b, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1000 + index, Type: protocol.TypeStream, Impulse: true,
					Live: true, EOS: eos, StreamID: streams, StreamIndex: index, Data: data})
				return b
			}
			bad := item(1, 7, false)
			bad[5] = 0xc1 // the item's one byte: 7 becomes 0xc1
			frames := [][]byte{item(0, 1, false), bad, item(2, 2, false), item(3, nil, true)}
			if call[1] == "gap" { // item 1 is never sent
				frames = [][]byte{item(0, 1, false), item(2, 2, false), item(3, nil, true)}
			}
			for _, b := range frames {
				if !send(b) {
					return
				}
			}
		}
	}()
	return "tcp://" + l.Addr().String()
}

// A stream item that is not a well-formed value is an error that names
// it, through each way of reading items (Recv, All, Next), and the
// connection keeps serving: the reader leaves stream items to be checked
// as they are decoded (protocol.SplitStreamPacket), so this holds the
// decoders and Stream.Next to that check.
func TestMalformedStreamItem(t *testing.T) {
	t.Parallel()
	p := dial(t, itemsServer(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checkBad := func(how string, err error) {
		t.Helper()
		if err == nil || netron.CodeOf(err) != netron.CodeInternal || !strings.Contains(err.Error(), "stream item") || !strings.Contains(err.Error(), "0xc1") {
			t.Fatalf("%s: the malformed item gave %v, want an internal error naming the stream item and the byte 0xc1", how, err)
		}
	}
	open := func() *netron.Stream {
		t.Helper()
		s, err := p.OpenStream(ctx, "items@1.0.0", "items")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}

	s := open()
	var v int
	if err := s.Recv(&v); err != nil || v != 1 {
		t.Fatalf("Recv: first item %d, %v", v, err)
	}
	checkBad("Recv", s.Recv(&v))

	got, last := untilError(netron.All[int](open()))
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("All: items before the malformed one %v, want [1]", got)
	}
	checkBad("All", last)

	s = open()
	if raw, err := s.Next(); err != nil || len(raw) != 1 || raw[0] != 1 {
		t.Fatalf("Next: first item %x, %v", raw, err)
	}
	raw, err := s.Next()
	checkBad("Next", err)
	if raw != nil {
		t.Fatalf("Next returned the malformed item's bytes %x with its error", raw)
	}

	if n, err := netron.CallUnary[int](ctx, p, "calc@1.0.0", "add", 1, 2); err != nil || n != 3 {
		t.Fatalf("a call after the malformed items: %d, %v", n, err)
	}
}

// A stream that ends while an item never came is a data_loss error that
// names the item, after the items before it: not a clean end.
func TestStreamEndWithMissingItem(t *testing.T) {
	t.Parallel()
	p := dial(t, itemsServer(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, last := untilError(netron.CallStream[int](ctx, p, "items@1.0.0", "gap"))
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("items before the gap %v, want [1]", got)
	}
	if netron.CodeOf(last) != netron.CodeDataLoss || !strings.Contains(last.Error(), "without item 1") {
		t.Fatalf("the end after a missing item gave %v, want data_loss naming item 1", last)
	}
}

// untilError returns the items of seq before its first error, and that
// error (nil when it ends cleanly).
func untilError[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var items []T
	for v, err := range seq {
		if err != nil {
			return items, err
		}
		items = append(items, v)
	}
	return items, nil
}
