package ws_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

const timeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// listen starts a listener on addr and closes it at cleanup.
func listen(t *testing.T, addr string, o transport.Options) transport.Listener {
	t.Helper()
	if o.CloseTimeout == 0 {
		o.CloseTimeout = transporttest.CloseTimeout
	}
	l, err := transport.Listen(testContext(t), addr, o)
	if err != nil {
		t.Fatalf("Listen(%q): %v", addr, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// accept accepts one connection in the background; the result is closed at cleanup.
func accept(t *testing.T, l transport.Listener) <-chan transport.Conn {
	t.Helper()
	ctx := testContext(t)
	ch := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
			close(ch)
			return
		}
		t.Cleanup(func() { _ = c.Close() })
		ch <- c
	}()
	return ch
}

// awaitConn returns the accepted connection, failing the test after the timeout.
func awaitConn(t *testing.T, ch <-chan transport.Conn) transport.Conn {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.FailNow()
		}
		return c
	case <-time.After(timeout):
		t.Fatal("timed out waiting for Accept")
		return nil
	}
}

// dial dials addr through the transport and closes the connection at cleanup.
func dial(t *testing.T, addr string, o transport.Options) transport.Conn {
	t.Helper()
	if o.CloseTimeout == 0 {
		o.CloseTimeout = transporttest.CloseTimeout
	}
	c, err := transport.Dial(testContext(t), addr, o)
	if err != nil {
		t.Fatalf("Dial(%q): %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// coderDial dials with coder/websocket's own client, so tests can send text messages, extra
// headers and observe close statuses. Its HTTP transport is private, so no idle connection
// outlives the test.
func coderDial(t *testing.T, addr string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	rt := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(rt.CloseIdleConnections)
	c, resp, err := websocket.Dial(testContext(t), addr, &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: rt},
		HTTPHeader: header,
	})
	if err == nil {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, resp, err
}

// rawClient is a WebSocket client written from RFC 6455 on a plain TCP connection, without
// any WebSocket library, so the tests check the server against the protocol itself.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// Opcodes of RFC 6455 §5.2.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// rawUpgrade connects to the listener address addr (ws://host:port[/path]) and performs the
// opening handshake of RFC 6455 §4.1, checking Sec-WebSocket-Accept.
func rawUpgrade(t *testing.T, addr string) *rawClient {
	t.Helper()
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(timeout))
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	key := base64.StdEncoding.EncodeToString(nonce)
	p := u.Path
	if p == "" {
		p = "/"
	}
	req := "GET " + p + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	status, err := tp.ReadLine()
	if err != nil {
		t.Fatalf("reading the handshake status line: %v", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		t.Fatalf("handshake status line %q, want HTTP/1.1 101", status)
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got, want := h.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	if !strings.EqualFold(h.Get("Upgrade"), "websocket") || !strings.EqualFold(h.Get("Connection"), "Upgrade") {
		t.Fatalf("handshake response headers %v lack Upgrade: websocket / Connection: Upgrade", h)
	}
	if ext := h.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("server negotiated extensions %q; none were offered", ext)
	}
	return &rawClient{t: t, conn: conn, br: br}
}

// writeFrame sends one masked frame (clients must mask, RFC 6455 §5.3).
func (c *rawClient) writeFrame(fin bool, opcode byte, payload []byte) {
	c.t.Helper()
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xFFFF:
		hdr = append(hdr, 0x80|126)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	body := make([]byte, len(payload))
	for i, b := range payload {
		body[i] = b ^ mask[i%4]
	}
	if _, err := c.conn.Write(append(hdr, body...)); err != nil {
		c.t.Fatalf("raw write: %v", err)
	}
}

type rawFrame struct {
	fin     bool
	opcode  byte
	masked  bool
	payload []byte
}

// readFrame reads one frame from the server.
func (c *rawClient) readFrame() (rawFrame, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{fin: hdr[0]&0x80 != 0, opcode: hdr[0] & 0x0F, masked: hdr[1]&0x80 != 0}
	n := uint64(hdr[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.br, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return f, fmt.Errorf("frame of %d bytes is too large for the test client", n)
	}
	var mask [4]byte
	if f.masked {
		if _, err := io.ReadFull(c.br, mask[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= mask[i%4]
		}
	}
	return f, nil
}

// echo accepts connections on l and echoes every message until the listener or the
// connection closes; it returns when every connection it served has ended.
func echo(t *testing.T, l transport.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for {
					m, err := c.ReadMessage()
					if err != nil {
						return
					}
					if err := c.WriteMessages(m); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}
