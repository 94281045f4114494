package ws_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
	"github.com/titanframework/titan/modules/netron/transport/ws"
)

func TestLimits(t *testing.T) {
	transporttest.RunLimits(t, "ws", transporttest.RawPeer{
		Dial:  upgradeFrom,
		Frame: maskedFrame,
		PerIP: true,
	})
}

// TestTLSLimits: the frame clock of wss runs beneath TLS, from the first byte of a record.
func TestTLSLimits(t *testing.T) {
	transporttest.RunTLSLimits(t, "wss", transporttest.TLSPeer{Open: upgrade, Frame: maskedFrame})
}

// upgradeFrom connects to the listener address addr from the local address from (when valid)
// and upgrades the connection (upgrade).
func upgradeFrom(ctx context.Context, addr string, from netip.Addr) (net.Conn, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	if from.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if err := upgrade(ctx, addr, conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// upgrade performs the opening handshake of RFC 6455 §4.1 by hand on conn, a connection to the
// listener address addr; an answer other than 101 is an error naming the status.
func upgrade(ctx context.Context, addr string, conn net.Conn) error {
	u, err := url.Parse(addr)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	req := "GET / HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(nonce) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	// Read the answer's header a byte at a time: nothing after it may be consumed.
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if _, err := conn.Read(b); err != nil {
			return fmt.Errorf("upgrade answer: %w", err)
		}
		head = append(head, b[0])
	}
	_ = conn.SetDeadline(time.Time{})
	if status, _, _ := strings.Cut(string(head), "\r\n"); !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		return fmt.Errorf("upgrade answered %q", status)
	}
	return nil
}

// maskedFrame returns one final binary frame carrying body, masked as a client sends it.
func maskedFrame(body []byte) []byte {
	hdr := []byte{0x80 | opBinary}
	switch n := len(body); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xFFFF:
		hdr = binary.BigEndian.AppendUint16(append(hdr, 0x80|126), uint16(n))
	default:
		hdr = binary.BigEndian.AppendUint64(append(hdr, 0x80|127), uint64(n))
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	hdr = append(hdr, mask[:]...)
	for i, c := range body {
		hdr = append(hdr, c^mask[i%4])
	}
	return hdr
}

// TestFragmentedTrickleIsCut: a message sent as many small complete fragments, each in time,
// is cut when the message as a whole does not complete in time, also when the fragments are
// empty (only their headers arrive).
func TestFragmentedTrickleIsCut(t *testing.T) {
	t.Parallel()
	for _, fragment := range []string{"b", ""} {
		t.Run(fmt.Sprintf("%d bytes", len(fragment)), func(t *testing.T) {
			t.Parallel()
			l := listen(t, "ws://127.0.0.1:0", transport.Options{FrameTimeout: 300 * time.Millisecond})
			accepted := accept(t, l)
			raw := rawUpgrade(t, l.Addr())
			server := awaitConn(t, accepted)
			read := make(chan error, 1)
			go func() {
				_, err := server.ReadMessage()
				read <- err
			}()
			raw.writeFrame(false, opBinary, []byte("a"))
			stop := time.After(timeout)
			for {
				select {
				case err := <-read:
					if !errors.Is(err, transport.ErrFrameTimeout) {
						t.Fatalf("ReadMessage = %v, want ErrFrameTimeout", err)
					}
					return
				case <-stop:
					t.Fatal("a message trickled in fragments was not cut")
				case <-time.After(50 * time.Millisecond): // the trickle's pace
				}
				if _, err := raw.conn.Write(maskedContinuation(fragment)); err != nil {
					t.Fatalf("ReadMessage still running, but the connection is gone: %v", err)
				}
			}
		})
	}
}

// TestFrameTimeoutWaitsForReadMessage: a message that arrived at once is not cut when the
// server comes back for it later than FrameTimeout, although the library read its first
// bytes ahead with the message before it; the clock runs only while ReadMessage waits.
func TestFrameTimeoutWaitsForReadMessage(t *testing.T) {
	t.Parallel()
	o := transport.Options{FrameTimeout: 300 * time.Millisecond}
	l := listen(t, "ws://127.0.0.1:0", o)
	accepted := accept(t, l)
	client := dial(t, l.Addr(), transport.Options{})
	server := awaitConn(t, accepted)
	second := []byte(strings.Repeat("x", 10000)) // more than the library reads ahead
	if err := client.WriteMessages([]byte("first"), second); err != nil {
		t.Fatal(err)
	}
	if m, err := server.ReadMessage(); err != nil || string(m) != "first" {
		t.Fatalf("first ReadMessage = %q, %v", m, err)
	}
	time.Sleep(2 * o.FrameTimeout) // the engine is busy with "first"
	m, err := server.ReadMessage()
	if err != nil || string(m) != string(second) {
		t.Fatalf("second ReadMessage = %d bytes, %v; want %d bytes", len(m), err, len(second))
	}
}

// TestFrameTimeoutAfterLateReadMessage: a message whose head came with the one before it and
// whose rest never comes is cut FrameTimeout after ReadMessage begins to wait for it.
func TestFrameTimeoutAfterLateReadMessage(t *testing.T) {
	t.Parallel()
	o := transport.Options{FrameTimeout: 300 * time.Millisecond}
	l := listen(t, "ws://127.0.0.1:0", o)
	accepted := accept(t, l)
	raw := rawUpgrade(t, l.Addr())
	server := awaitConn(t, accepted)
	head := maskedFrame([]byte(strings.Repeat("x", 100)))
	if _, err := raw.conn.Write(append(maskedFrame([]byte("first")), head[:50]...)); err != nil {
		t.Fatal(err)
	}
	if m, err := server.ReadMessage(); err != nil || string(m) != "first" {
		t.Fatalf("first ReadMessage = %q, %v", m, err)
	}
	time.Sleep(2 * o.FrameTimeout)
	start := time.Now()
	_, err := server.ReadMessage()
	if !errors.Is(err, transport.ErrFrameTimeout) {
		t.Fatalf("second ReadMessage = %v, want ErrFrameTimeout", err)
	}
	if d := time.Since(start); d < o.FrameTimeout*3/4 {
		t.Fatalf("second ReadMessage failed after %v, before FrameTimeout %v", d, o.FrameTimeout)
	}
}

func maskedContinuation(s string) []byte {
	f := maskedFrame([]byte(s))
	f[0] = opContinuation // not final
	return f
}

// TestHandshakeTimeout: an upgrade request whose header trickles in is dropped after
// HandshakeTimeout, and never accepted, while other clients are served.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{HandshakeTimeout: 300 * time.Millisecond})
	echo(t, l)
	u, _ := url.Parse(l.Addr())
	conn, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nX-Padding: " + strings.Repeat("x", 200)
	trickled := make(chan error, 1)
	go func() {
		for i := range len(req) {
			if _, err := conn.Write([]byte{req[i]}); err != nil {
				trickled <- err
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle's pace
		}
		trickled <- errors.New("the whole header was sent without the server closing the connection")
	}()
	// A client that upgrades properly is served meanwhile.
	c := dial(t, l.Addr(), transport.Options{})
	if err := c.WriteMessages([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadMessage(); err != nil || string(m) != "hi" {
		t.Fatalf("echo = %q, %v", m, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	resp, err := io.ReadAll(conn)
	if err != nil && !isReset(err) {
		t.Fatalf("trickling client: read %v; want the server to close the connection", err)
	}
	if len(resp) > 0 && !strings.HasPrefix(string(resp), "HTTP/1.1 4") { // net/http answers 400
		t.Fatalf("trickling client got %q", resp)
	}
	if err := <-trickled; err == nil || !isReset(err) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("trickle: %v", err)
	}
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

// TestRejectClosesWith4001: Reject closes with 4001 and the reason, as the original server
// refuses a token; a reason longer than a close frame holds is cut.
func TestRejectClosesWith4001(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{})
	for _, tc := range []struct{ reason, want string }{
		{"Invalid token", "Invalid token"},
		{strings.Repeat("é", 100), strings.Repeat("é", 61)}, // 123 bytes hold 61 two-byte runes
	} {
		accepted := accept(t, l)
		client, _, err := coderDial(t, l.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		server := awaitConn(t, accepted)
		read := make(chan error, 1)
		go func() {
			_, _, err := client.Read(context.Background())
			read <- err
		}()
		if err := server.(transport.Rejecter).Reject(tc.reason); err != nil {
			t.Fatal(err)
		}
		var ce websocket.CloseError
		if err := <-read; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != tc.want {
			t.Fatalf("client Read after Reject = %v, want close 4001 %q", err, tc.want)
		}
		if err := server.WriteMessages([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("WriteMessages after Reject = %v, want net.ErrClosed", err)
		}
	}
}

// TestPing: Ping is answered by a reading peer and times out against one that never answers.
func TestPing(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0/?ping=0", transport.Options{})
	accepted := accept(t, l)
	client, _, err := coderDial(t, l.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	server := awaitConn(t, accepted)
	go func() { _, _, _ = client.Read(context.Background()) }() // answers pings while reading
	go func() { _, _ = server.ReadMessage() }()                 // reads the pongs
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := server.(transport.Pinger).Ping(ctx); err != nil {
		t.Fatalf("Ping of a live peer: %v", err)
	}

	accepted = accept(t, l)
	raw := rawUpgrade(t, l.Addr()) // never answers
	server = awaitConn(t, accepted)
	go func() { _, _ = server.ReadMessage() }()
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := server.(transport.Pinger).Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping of a peer that does not answer = %v, want the context's deadline", err)
	}
	if f, err := raw.readFrame(); err != nil || f.opcode != opPing {
		t.Fatalf("the silent peer received %+v, %v; want a ping", f, err)
	}
}

// TestFirstWriteWaitsForNonGoClients: the first message to a client that did not announce
// itself as a Go client waits until 10 ms after the upgrade (NETRON-WIRE.md §4.2 step 3); a Go
// client (Dial sends ws.GoClientHeader) is not held.
func TestFirstWriteWaitsForNonGoClients(t *testing.T) {
	t.Parallel()
	l := listen(t, "ws://127.0.0.1:0", transport.Options{})
	accepted := accept(t, l)
	if _, _, err := coderDial(t, l.Addr(), nil); err != nil {
		t.Fatal(err)
	}
	if server := awaitConn(t, accepted); !ws.HoldsFirstWrite(server.(*ws.Conn)) {
		t.Error("the first write to a browser-like client is not held")
	}
	accepted = accept(t, l)
	dial(t, l.Addr(), transport.Options{})
	if server := awaitConn(t, accepted); ws.HoldsFirstWrite(server.(*ws.Conn)) {
		t.Error("the first write to a Go client is held")
	}
	accepted = accept(t, l)
	if _, _, err := coderDial(t, l.Addr(), http.Header{ws.GoClientHeader: {"go"}}); err != nil {
		t.Fatal(err)
	}
	if server := awaitConn(t, accepted); ws.HoldsFirstWrite(server.(*ws.Conn)) {
		t.Errorf("the first write to a client sending %s is held", ws.GoClientHeader)
	}
}

// TestFragmentedTrickleAtMinRateIsCut: a message kept open by empty continuation frames sent
// just fast enough for FrameMinRate (their headers count as bytes arriving) is cut once it has
// taken as long as the largest message may take at that rate: it never grows, so the frame
// limit alone would never end it.
func TestFragmentedTrickleAtMinRateIsCut(t *testing.T) {
	t.Parallel()
	o := transport.Options{
		FrameTimeout: 100 * time.Millisecond,
		FrameMinRate: transport.Rate{Bytes: 6, Per: 100 * time.Millisecond}, // one empty frame
		MaxFrameSize: 64,
	}
	l := listen(t, "ws://127.0.0.1:0", o)
	accepted := accept(t, l)
	raw := rawUpgrade(t, l.Addr())
	server := awaitConn(t, accepted)
	read := make(chan error, 1)
	go func() {
		_, err := server.ReadMessage()
		read <- err
	}()
	raw.writeFrame(false, opBinary, []byte("a"))
	stop := time.After(4 * time.Second) // the bound here is 1.5 s
	for {
		select {
		case err := <-read:
			if !errors.Is(err, transport.ErrFrameTimeout) {
				t.Fatalf("ReadMessage = %v, want ErrFrameTimeout", err)
			}
			return
		case <-stop:
			t.Fatal("a message kept open by empty fragments at FrameMinRate was not cut")
		case <-time.After(20 * time.Millisecond): // well within FrameMinRate
		}
		if _, err := raw.conn.Write(maskedContinuation("")); err != nil {
			t.Fatalf("ReadMessage still running, but the connection is gone: %v", err)
		}
	}
}
