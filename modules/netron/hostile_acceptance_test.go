package netron_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// expectError reads the next frame and checks it is an error response to
// id with a TitanError of code 400.
func expectError(t *testing.T, c *rawConn, id uint32, typ protocol.Type) {
	t.Helper()
	msg := c.read()
	pkt, err := protocol.DecodePacket(msg, protocol.Limits{})
	if err != nil {
		t.Fatalf("undecodable answer % x: %v", msg, err)
	}
	if pkt.ID != id || pkt.Type != typ || pkt.Impulse || !pkt.Error {
		t.Fatalf("answer id %d flags %#x, want id %d flags %#x", pkt.ID, msg[4], id, 0x80|byte(typ))
	}
	te, ok := pkt.Data.(*protocol.TitanError)
	if !ok || te.Code != 400 {
		t.Fatalf("answer payload %#v, want a TitanError with code 400", pkt.Data)
	}
}

// expectAdd sends add(a, b) with id and checks that the next frame is its
// answer.
func expectAdd(t *testing.T, c *rawConn, id uint32, a, b byte) {
	t.Helper()
	c.write(callAdd(id, a, b))
	want := []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), 0x03, a + b}
	if got := c.read(); !bytes.Equal(got, want) {
		t.Fatalf("add answer % x, want % x", got, want)
	}
}

func nested(depth int) []byte {
	b := bytes.Repeat([]byte{0x91}, depth)
	return append(b, 0x01)
}

// Criterion 8: hostile bytes on a raw TCP connection.
func TestAcceptanceHostileBytes(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log)

	// A well-behaved peer keeps calling on its own connection throughout.
	good := dial(t, s.addr)
	var okCalls, badCalls atomic.Int64
	var firstBad atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			v, err := netron.CallUnary[int](ctx, good, "calculator@1.0.0", "add", 2, 3)
			cancel()
			if err != nil || v != 5 {
				badCalls.Add(1)
				firstBad.CompareAndSwap(nil, err)
			} else {
				okCalls.Add(1)
			}
			time.Sleep(time.Millisecond)
		}
	})
	defer func() {
		// The hostile part can be over before the first call of the loop
		// (a query_interface and the call) completes on a loaded machine.
		for deadline := time.Now().Add(5 * time.Second); okCalls.Load()+badCalls.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		close(stop)
		wg.Wait()
		if badCalls.Load() > 0 {
			t.Errorf("%d calls on the well-behaved connection failed, first: %v", badCalls.Load(), firstBad.Load())
		}
		if okCalls.Load() == 0 {
			t.Error("the well-behaved connection made no call")
		}
		t.Logf("well-behaved connection: %d calls completed", okCalls.Load())
	}()

	// goodCall checks a call on the well-behaved connection right now.
	goodCall := func(t *testing.T) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if v, err := netron.CallUnary[int](ctx, good, "calculator@1.0.0", "add", 20, 22); err != nil || v != 42 {
			t.Fatalf("call on the well-behaved connection: %v, %v", v, err)
		}
	}

	t.Run("oversize length prefix closes the connection", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("hostile-1")
		c.writeBytes([]byte{0x01, 0x00, 0x00, 0x01, 0, 0, 0, 1, 0x43}) // 16 MiB + 1 declared
		if _, err := c.readFrame(3 * time.Second); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Fatalf("after an oversize prefix: %v, want the connection closed", err)
		}
		rec.waitFor(t, "frame too large")
		goodCall(t)
	})

	t.Run("undecodable request gets an error", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("hostile-2")
		c.write([]byte{0, 0, 0, 7, 0x43, 0xc1}) // c1: never used
		expectError(t, c, 7, protocol.TypeCall)
		c.write([]byte{0, 0, 0, 8, 0x44, 0x92, 0xa1}) // truncated array
		expectError(t, c, 8, protocol.TypeTask)
		c.write([]byte{0, 0, 0, 9, 0x43, 0x91, 0x01, 0x01}) // trailing byte
		expectError(t, c, 9, protocol.TypeCall)
		rec.waitFor(t, "malformed packet")
		expectAdd(t, c, 10, 1, 2)
		goodCall(t)
	})

	t.Run("types 8-15 are dropped", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("hostile-3")
		before := rec.count("malformed packet", "packet type")
		for typ := byte(8); typ <= 15; typ++ {
			c.write([]byte{0, 0, 0, typ, 0x40 | typ, 0x90})
			c.write([]byte{0, 0, 0, typ, typ, 0x90}) // and as responses
		}
		// A bad packet is answered (if at all) before the next frame is
		// read, so the first frame back must be the answer to this call.
		expectAdd(t, c, 20, 3, 4)
		// The first is logged; the others are counted, and the count is
		// logged when the connection ends.
		if got := rec.count("malformed packet", "packet type") - before; got != 1 {
			t.Errorf("logged %d dropped packets of unknown type, want 1", got)
		}
		c.nc.Close()
		rec.waitFor(t, "malformed messages dropped without a log record", "count=15", "peer=tcp://"+c.nc.LocalAddr().String())
		goodCall(t)
	})

	t.Run("nesting past the limit is refused", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("hostile-4")
		deep := append([]byte{0, 0, 0, 30, 0x43, 0x93, 0xb0}, "calculator@1.0.0"...)
		deep = append(deep, 0xa3, 'a', 'd', 'd')
		deep = append(deep, nested(200)...)
		c.write(deep)
		expectError(t, c, 30, protocol.TypeCall)
		rec.waitFor(t, "malformed packet", "deeper")
		c.write(append([]byte{0, 0, 0, 31, 0x44}, nested(1000)...))
		expectError(t, c, 31, protocol.TypeTask)
		expectAdd(t, c, 32, 5, 6)
		goodCall(t)
	})

	t.Run("non-array payloads get an error", func(t *testing.T) {
		c := dialRaw(t, s.addr)
		c.handshake("hostile-5")
		before := rec.count("malformed request")
		object, err := protocol.AppendPacket(nil, &protocol.Packet{ID: 41, Type: protocol.TypeCall, Impulse: true,
			Data: protocol.Object{{Key: "defId", Value: "calculator@1.0.0"}, {Key: "method", Value: "add"}, {Key: "args", Value: []any{1, 2}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			pkt []byte
			id  uint32
			typ protocol.Type
		}{
			{[]byte{0, 0, 0, 40, 0x43, 0x2a}, 40, protocol.TypeCall},                            // 42
			{object, 41, protocol.TypeCall},                                                     // {defId, method, args}
			{[]byte{0, 0, 0, 42, 0x44, 0xa4, 'e', 'm', 'i', 't'}, 42, protocol.TypeTask},        // "emit"
			{[]byte{0, 0, 0, 43, 0x43, 0x91, 0xa1, 'x'}, 43, protocol.TypeCall},                 // too short
			{[]byte{0, 0, 0, 44, 0x43, 0x92, 0x01, 0xa3, 'a', 'd', 'd'}, 44, protocol.TypeCall}, // defId not a string
			{[]byte{0, 0, 0, 45, 0x44, 0x90}, 45, protocol.TypeTask},                            // no task name
		} {
			c.write(tc.pkt)
			expectError(t, c, tc.id, tc.typ)
		}
		if got := rec.count("malformed request") - before; got != 1 {
			t.Errorf("logged %d malformed requests, want 1 (the rest counted)", got)
		}
		expectAdd(t, c, 46, 7, 8)
		c.nc.Close()
		rec.waitFor(t, "malformed messages dropped without a log record", "count=5", "peer=tcp://"+c.nc.LocalAddr().String())
		goodCall(t)
	})
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// A peer id is bounded at the door: a client-id message with a 10 MB id is
// dropped (the peer keeps no id), and the log says why without echoing it.
func TestAcceptanceLongPeerIDRefused(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log)
	c := dialRaw(t, s.addr)
	c.serverID()
	c.clientID(strings.Repeat("i", 10_000_000))
	c.clientID(strings.Repeat("j", 300)) // under the size limit, over the id limit
	expectAdd(t, c, 1, 2, 3)             // served, in order, after the refused messages
	peers := s.n.Peers()
	if len(peers) != 1 {
		t.Fatalf("%d peers, want 1", len(peers))
	}
	if id := peers[0].ID(); id != "" {
		t.Errorf("the peer kept an id of %d bytes; want none", len(id))
	}
	if n := rec.count("dropped a text message", "text message of 10000028 bytes is longer than a handshake message may be (4352)"); n != 1 {
		t.Errorf("%d records name the 10 MB message, want 1", n)
	}
	c.nc.Close()
	rec.waitFor(t, "malformed messages dropped without a log record", "count=1")
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, m := range rec.msgs {
		if len(m) > 1000 {
			t.Errorf("a log record of %d bytes: %.200s…", len(m), m)
		}
	}
}

// 3,000 malformed packets on one connection make one log record while
// it lasts and one with the count when it ends; the connection and the
// server keep serving.
func TestAcceptanceMalformedPacketsLogOnce(t *testing.T) {
	t.Parallel()
	log, rec := captureLogger()
	s, _ := netronServer(t, "tcp", netron.Config{}, log)
	c := dialRaw(t, s.addr)
	c.handshake("client")
	var garbage []byte
	for i := range 3000 {
		// A CALL impulse packet whose payload is not MessagePack.
		msg := []byte{0, 0, byte(i >> 8), byte(i), 0x43, 0xc1, 0xc1, 0xc1}
		garbage = binary.BigEndian.AppendUint32(garbage, uint32(len(msg)))
		garbage = append(garbage, msg...)
	}
	c.writeBytes(garbage)
	// Each is answered with an error (its id is readable).
	for range 3000 {
		msg := c.read()
		if pkt, err := protocol.DecodePacket(msg, protocol.Limits{}); err != nil || !pkt.Error {
			t.Fatalf("answer to a malformed call: % x (%v); want an error response", msg, err)
		}
	}
	expectAdd(t, c, 1<<20, 2, 3)
	if n := rec.count("malformed"); n != 1 {
		t.Errorf("%d log records about malformed packets while the connection lasts, want 1", n)
	}
	c.nc.Close()
	rec.waitFor(t, "malformed messages dropped without a log record", "count=2999")
}

// netron.maxPeerIDBytes sets the bound: an id of 300 bytes is kept under a
// limit of 400.
func TestAcceptancePeerIDLimitConfigurable(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{MaxPeerIDBytes: 400}, nil)
	c := dialRaw(t, s.addr)
	c.serverID()
	id := strings.Repeat("k", 300)
	c.clientID(id)
	expectAdd(t, c, 1, 2, 3)
	if peers := s.n.Peers(); len(peers) != 1 || peers[0].ID() != id {
		t.Fatalf("the 300-byte id was not kept under a limit of 400")
	}
}
