package netron_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron"
)

// slowFrameIdle probes after 100 ms of silence and waits 500 ms for the
// answer: time enough, on a loaded machine, for the peer to begin its
// frame, far less than the frame takes (sendSlowly).
var slowFrameIdle = netron.Config{IdleTimeout: 100 * time.Millisecond, PingTimeout: 500 * time.Millisecond}

// A peer in the middle of sending a large message is not silent, though
// no message has arrived for longer than IdleTimeout: its answer to a ping
// would come only after that message, however slowly (within the frame
// rate limits) it arrives. The server keeps the connection while the
// message's bytes keep coming, and answers it.
func TestAcceptanceIdleSlowLargeFrameStays(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", slowFrameIdle, nil)
	c := dialRaw(t, s.addr)
	c.handshake("slow-sender")
	expectAdd(t, c, 1, 2, 3)
	sendSlowly(t, c, 7)
	awaitAnswer(t, c, 7)
}

// A peer that begins a large message just before the server's ping
// arrives answers it only after that message: bytes arriving while the
// server waits for the answer show the peer alive, as a whole message
// would.
func TestAcceptanceIdlePingAnsweredAfterSlowFrame(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", slowFrameIdle, nil)
	c := dialRaw(t, s.addr)
	c.handshake("slow-sender")
	expectAdd(t, c, 1, 2, 3)
	ping := c.read() // after 100 ms of silence
	if !isPing(ping) {
		t.Fatalf("after 100 ms of silence the server sent % x; want a PING request", ping)
	}
	sendSlowly(t, c, 7)
	answerPing(c, ping)
	awaitAnswer(t, c, 7)
}

// isPing reports whether msg is a PING request.
func isPing(msg []byte) bool { return len(msg) >= 5 && msg[4]&0x0f == 0 && msg[4]&0x40 != 0 }

// answerPing echoes the PING request ping, as the answer.
func answerPing(c *rawConn, ping []byte) {
	ans := append([]byte(nil), ping...)
	ans[4] &^= 0x40
	c.write(ans)
}

// sendSlowly sends the CALL ["calculator@1.0.0","add",1,2,<32 KiB string>]
// with the given id (one argument too many, answered with an error) 1 KiB
// every 40 ms: about 1.3 s for the frame, many idle periods, far within
// the default frame limits (15 s, then 64 KiB per 10 s).
func sendSlowly(t *testing.T, c *rawConn, id uint32) {
	t.Helper()
	pkt := slowCall(id)
	frame := append(binary.BigEndian.AppendUint32(nil, uint32(len(pkt))), pkt...)
	for len(frame) > 0 {
		n := min(len(frame), 1<<10)
		c.nc.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.nc.Write(frame[:n]); err != nil {
			t.Fatalf("the server dropped a peer that was sending a large frame slowly (%d bytes left): %v", len(frame), err)
		}
		frame = frame[n:]
		time.Sleep(40 * time.Millisecond)
	}
}

// slowCall is the CALL ["calculator@1.0.0","add",1,2,<32 KiB string>]
// with the given id.
func slowCall(id uint32) []byte {
	const pad = 32 << 10
	pkt := binary.BigEndian.AppendUint32(nil, id)
	pkt = append(pkt, 0x43, 0x95, 0xb0)
	pkt = append(pkt, "calculator@1.0.0"...)
	pkt = append(pkt, 0xa3, 'a', 'd', 'd', 1, 2, 0xdb)
	pkt = binary.BigEndian.AppendUint32(pkt, pad)
	return append(pkt, make([]byte, pad)...)
}

// awaitAnswer reads until the answer to the request id, answering the
// server's PINGs.
func awaitAnswer(t *testing.T, c *rawConn, id uint32) {
	t.Helper()
	for {
		msg, err := c.readFrame(5 * time.Second)
		if err != nil {
			t.Fatalf("no answer to a large frame sent slowly: %v (the server closed the connection of a peer sending it?)", err)
		}
		if len(msg) >= 5 && binary.BigEndian.Uint32(msg) == id {
			return
		}
		if isPing(msg) {
			answerPing(c, msg)
		}
	}
}

// slowConn writes 1 KiB every 40 ms.
type slowConn struct{ net.Conn }

func (c slowConn) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		m, err := c.Conn.Write(b[:min(len(b), 1<<10)])
		n += m
		if err != nil {
			return n, err
		}
		b = b[m:]
		time.Sleep(40 * time.Millisecond)
	}
	return n, nil
}

// Over WebSocket too, the server's probe (a ping frame) keeps the
// connection of a peer sending a large message slowly: its pong comes
// only after the message, but the message's bytes show it alive.
func TestAcceptanceIdleSlowLargeWebSocketMessageStays(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "ws", slowFrameIdle, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return slowConn{c}, nil
	}}}
	c, _, err := websocket.Dial(ctx, s.addr, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	// A read is always pending, so that pings are answered.
	msgs := make(chan []byte, 16)
	readErr := make(chan error, 1)
	go func() {
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				readErr <- err
				return
			}
			msgs <- msg
		}
	}()
	next := func() []byte {
		t.Helper()
		select {
		case msg := <-msgs:
			return msg
		case err := <-readErr:
			t.Fatalf("the server closed the connection of a peer sending a large message slowly: %v", err)
		case <-ctx.Done():
			t.Fatal("no message from the server")
		}
		return nil
	}
	if msg := next(); !strings.Contains(string(msg), `"id"`) {
		t.Fatalf("first message %q is not the id message", msg)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"client-id","id":"slow-sender"}`)); err != nil {
		t.Fatal(err)
	}
	const id = 7
	if err := c.Write(ctx, websocket.MessageBinary, slowCall(id)); err != nil {
		t.Fatalf("the server dropped a peer that was sending a large message slowly: %v", err)
	}
	for {
		if msg := next(); len(msg) >= 5 && binary.BigEndian.Uint32(msg) == id {
			return
		}
	}
}
