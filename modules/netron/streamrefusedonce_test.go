package netron_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// A stream refused because the reader's table is full is refused once:
// its producer gets one STREAM_CLOSE, not one per item that arrives.
func TestFullTableRefusesAStreamOnce(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{MaxStreamsPerPeer: 1}, nil)
	c := dialRaw(t, s.addr)
	c.handshake("refused-once")
	item := func(id, index uint32) {
		c.writeBytes(packetFrame(t, &protocol.Packet{ID: 1000 + index, Type: protocol.TypeStream, Impulse: true,
			Live: true, StreamID: id, StreamIndex: index, Data: index}))
	}
	item(500, 0) // takes the table's one place
	for i := range uint32(5) {
		item(501, i)
	}
	// The echo of a PING sent after the items comes after whatever the
	// server answered to them.
	c.writeBytes(packetFrame(t, &protocol.Packet{ID: 9999, Type: protocol.TypePing, Impulse: true, Data: 1}))
	closes := 0
	for {
		pkt, err := protocol.DecodePacket(c.read(), protocol.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if pkt.Type == protocol.TypePing && pkt.ID == 9999 {
			break
		}
		if pkt.Type == protocol.TypeStreamClose {
			closes++
		}
	}
	if closes != 1 {
		t.Fatalf("the producer of a refused stream got %d STREAM_CLOSE packets for its 5 items, want 1", closes)
	}
}

// A stream whose items came before its reference and waited unclaimed
// past the idle timeout is refused with what happened, not as if the
// connection read as many streams as it may.
func TestUnclaimedStreamRefusalSaysWhy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := make(chan error, 1)
	go func() { srv <- rawStreamServer(ln) }()
	p := dialWith(t, "tcp://"+ln.Addr().String(), netron.Config{StreamIdleTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = p.OpenStream(ctx, "late@1.0.0", "items")
	if serr := <-srv; serr != nil {
		t.Fatal(serr)
	}
	if err == nil {
		t.Fatal("a stream dropped unclaimed was opened")
	}
	msg := err.Error()
	if strings.Contains(msg, "maxStreamsPerPeer") || !strings.Contains(msg, "streamIdleTimeout") {
		t.Fatalf("the refusal %q does not say the stream was dropped unclaimed after streamIdleTimeout", msg)
	}
}

// rawStreamServer accepts one connection and answers its first call with
// a stream whose first item it sends before the reference, which it sends
// once the reader dropped the unclaimed stream (its STREAM_CLOSE came).
func rawStreamServer(ln net.Listener) error {
	nc, err := ln.Accept()
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	write := func(msg []byte) error {
		_, err := nc.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(msg))), msg...))
		return err
	}
	read := func() ([]byte, error) {
		var hdr [4]byte
		if _, err := io.ReadFull(nc, hdr[:]); err != nil {
			return nil, err
		}
		msg := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		_, err := io.ReadFull(nc, msg)
		return msg, err
	}
	hello, _ := json.Marshal(map[string]any{"type": "id", "id": "raw", "titan": map[string]any{"v": 1, "window": 16}})
	if err := write(hello); err != nil {
		return err
	}
	if _, err := read(); err != nil { // client-id
		return err
	}
	var callID uint32
	for callID == 0 {
		msg, err := read()
		if err != nil {
			return err
		}
		if pkt, err := protocol.DecodePacket(msg, protocol.Limits{}); err == nil && pkt.Type == protocol.TypeCall {
			callID = pkt.ID
		}
	}
	const sid = 42
	item, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: 1, Type: protocol.TypeStream, Impulse: true, Live: true, StreamID: sid, Data: "x"})
	if err := write(item); err != nil {
		return err
	}
	for {
		msg, err := read()
		if err != nil {
			return err
		}
		if pkt, err := protocol.DecodePacket(msg, protocol.Limits{}); err == nil && pkt.Type == protocol.TypeStreamClose {
			break
		}
	}
	ref, _ := protocol.AppendPacket(nil, &protocol.Packet{ID: callID, Type: protocol.TypeCall,
		Data: &protocol.StreamReference{StreamID: sid, Kind: protocol.StreamWritable, IsLive: true, PeerID: "raw"}})
	if err := write(ref); err != nil {
		return err
	}
	// Read what follows (the reader's stop for the stream it refused)
	// before closing: a close with unread data could reset the connection
	// before the reader read the reference.
	_, err = read()
	return err
}
