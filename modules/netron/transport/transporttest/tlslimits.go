package transporttest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// TLSPeer reaches a TLS listener beneath TLS, for [RunTLSLimits]: it speaks TLS through
// crypto/tls and then sends the TLS records, or parts of them, on the socket itself.
type TLSPeer struct {
	// Open makes tc, a TLS connection to the listener at addr whose handshake is done, ready
	// to carry messages (a WebSocket connection is upgraded). Nil means tc is ready as it is.
	Open func(ctx context.Context, addr string, tc net.Conn) error
	// Frame returns the bytes of one message carrying body, as written into the TLS
	// connection.
	Frame func(body []byte) []byte
	// Flood is the number of connections that stall inside a TLS record in the flood check.
	// Zero means 200.
	Flood int
}

// RunTLSLimits checks that the frame clock of a TLS listener of scheme runs from the first byte
// of a message on the wire, beneath TLS: a TLS record left incomplete (its header, or its body
// cut short) is cut after FrameTimeout with [transport.ErrFrameTimeout] and an error naming
// the TLS record, also when it follows whole messages in one write; records that arrive slowly
// but at FrameMinRate are served, however long the message takes; a connection idle between
// records is not cut; and a flood of connections stalled inside records is closed while a
// well-behaved client keeps being served. The clients send records of up to 16 KiB
// ([tls.Config.DynamicRecordSizingDisabled]).
func RunTLSLimits(t *testing.T, scheme string, peer TLSPeer) {
	t.Helper()
	runSuite(t, scheme, peer, []suiteCase[TLSPeer]{
		{"Flood", testTLSFlood, false},
		{"PartialRecordIsCut", testPartialRecord, true},
		{"PartialRecordAfterMessageIsCut", testPartialRecordAfterMessage, true},
		{"SteadySlowRecordsAreServed", testSlowRecords, true},
		{"IdleBetweenRecordsIsNotCut", testIdleRecords, true},
		{"PartialRecordCountsAsRead", testPartialRecordRead, true},
	})
}

// heldConn is a client's socket under TLS whose writes can be kept back, so that the test
// sends the TLS records, or parts of them, itself.
type heldConn struct {
	net.Conn
	mu   sync.Mutex
	hold bool
	held []byte
}

func (c *heldConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hold {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// tlsPeer is a client connection of [RunTLSLimits].
type tlsPeer struct {
	raw   *heldConn
	tc    *tls.Conn
	frame func([]byte) []byte
}

// records returns the TLS records that carry msgs, one message per write, kept back from the
// socket.
func (p *tlsPeer) records(t *testing.T, msgs ...[]byte) []byte {
	t.Helper()
	p.raw.mu.Lock()
	p.raw.hold = true
	p.raw.mu.Unlock()
	for _, m := range msgs {
		if _, err := p.tc.Write(p.frame(m)); err != nil {
			t.Fatalf("TLS write: %v", err)
		}
	}
	p.raw.mu.Lock()
	defer p.raw.mu.Unlock()
	p.raw.hold = false
	w := p.raw.held
	p.raw.held = nil
	return w
}

// send writes b on the socket, beneath TLS.
func (p *tlsPeer) send(t *testing.T, b []byte) {
	t.Helper()
	if _, err := p.raw.Conn.Write(b); err != nil {
		t.Fatalf("raw write: %v", err)
	}
}

// tlsListen starts a listener of scheme with the short limits and TLS; it returns the client
// TLS configuration.
func tlsListen(t *testing.T, scheme string, o transport.Options) (transport.Listener, *tls.Config) {
	t.Helper()
	serverTLS, clientTLS := TLSConfigs(t)
	clientTLS.DynamicRecordSizingDisabled = true // full records from the first write
	o.TLS = serverTLS
	return Listen(t, scheme, o), clientTLS
}

// dialTLS opens a peer connection to l: TCP, the TLS handshake and peer.Open.
func dialTLS(ctx context.Context, l transport.Listener, cfg *tls.Config, peer TLSPeer) (*tlsPeer, error) {
	u, err := url.Parse(l.Addr())
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	raw := &heldConn{Conn: nc}
	if cfg.ServerName == "" {
		cfg = cfg.Clone()
		cfg.ServerName = u.Hostname()
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, err
	}
	if peer.Open != nil {
		if err := peer.Open(ctx, l.Addr(), tc); err != nil {
			_ = nc.Close()
			return nil, err
		}
	}
	return &tlsPeer{raw: raw, tc: tc, frame: peer.Frame}, nil
}

// tlsAccept opens a peer connection to l and accepts it; both are closed at cleanup.
func tlsAccept(t *testing.T, l transport.Listener, cfg *tls.Config, peer TLSPeer) (*tlsPeer, transport.Conn) {
	t.Helper()
	return acceptDuring(t, l, func(ctx context.Context) (*tlsPeer, error) { return dialTLS(ctx, l, cfg, peer) })
}

// Close closes the peer's socket.
func (p *tlsPeer) Close() error { return p.raw.Close() }

// expectRecordCut is expectCut for a TLS record left incomplete: the error names it too.
func expectRecordCut(t *testing.T, p *tlsPeer, server transport.Conn, began time.Time) {
	t.Helper()
	r := await(t, goRead(server), "ReadMessage")
	if !errors.Is(r.err, transport.ErrFrameTimeout) || !strings.Contains(r.err.Error(), "TLS record") {
		t.Fatalf("ReadMessage = %d bytes, %v; want an error matching ErrFrameTimeout that names the TLS record", len(r.msg), r.err)
	}
	if took := time.Since(began); took < limitOpts.FrameTimeout/2 {
		t.Errorf("cut after %v, before the frame timeout of %v", took, limitOpts.FrameTimeout)
	}
	t.Logf("server: %v", r.err)
	expectEnd(t, p.raw.Conn)
}

func testPartialRecord(t *testing.T, scheme string, peer TLSPeer) {
	for _, tc := range []struct {
		name string
		cut  func(record []byte) int
	}{
		{"InHeader", func([]byte) int { return 3 }},
		{"AfterHeader", func([]byte) int { return 5 }},
		{"InBody", func(r []byte) int { return len(r) / 2 }},
		{"LastByteMissing", func(r []byte) int { return len(r) - 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, cfg := tlsListen(t, scheme, limitOpts)
			p, server := tlsAccept(t, l, cfg, peer)
			record := p.records(t, pattern(1000, 1))
			began := time.Now()
			p.send(t, record[:tc.cut(record)])
			expectRecordCut(t, p, server, began)
		})
	}
}

// testPartialRecordAfterMessage: one write holds the records of a whole message and the
// beginning of another record: of the next message, or the header of an alert (which
// crypto/tls reads before it returns the message); the message is served, the rest cut.
func testPartialRecordAfterMessage(t *testing.T, scheme string, peer TLSPeer) {
	for _, tc := range []struct {
		name string
		tail func(t *testing.T, p *tlsPeer) []byte
	}{
		{"Message", func(t *testing.T, p *tlsPeer) []byte { r := p.records(t, pattern(3000, 2)); return r[:len(r)/2] }},
		{"AlertHeader", func(*testing.T, *tlsPeer) []byte { return []byte{0x15, 0x03, 0x03} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, cfg := tlsListen(t, scheme, limitOpts)
			p, server := tlsAccept(t, l, cfg, peer)
			wire := append(p.records(t, []byte("whole")), tc.tail(t, p)...)
			began := time.Now()
			p.send(t, wire)
			if r := await(t, goRead(server), "ReadMessage"); r.err != nil || string(r.msg) != "whole" {
				t.Fatalf("ReadMessage = %q, %v; want the whole message", r.msg, r.err)
			}
			expectRecordCut(t, p, server, began)
		})
	}
}

// testSlowRecords: a 48 KiB message in three records of 16 KiB, sent 4 KiB every 100 ms (five
// times the minimum rate, about 1.2 s in all: four times the frame timeout) is served, though a
// record takes longer than the frame timeout to arrive.
func testSlowRecords(t *testing.T, scheme string, peer TLSPeer) {
	l, cfg := tlsListen(t, scheme, limitOpts)
	p, server := tlsAccept(t, l, cfg, peer)
	msg := pattern(48<<10, 3)
	wire := p.records(t, msg)
	read := goRead(server)
	for off := 0; off < len(wire); off += 4 << 10 {
		p.send(t, wire[off:min(off+4<<10, len(wire))])
		time.Sleep(100 * time.Millisecond) // the pace under test
	}
	if r := await(t, read, "ReadMessage"); r.err != nil || !bytes.Equal(r.msg, msg) {
		t.Fatalf("ReadMessage = %d bytes, %v; want the 48 KiB message", len(r.msg), r.err)
	}
}

// testIdleRecords: whole records, then a silence longer than the frame timeout, then more.
func testIdleRecords(t *testing.T, scheme string, peer TLSPeer) {
	l, cfg := tlsListen(t, scheme, limitOpts)
	p, server := tlsAccept(t, l, cfg, peer)
	for i, m := range []string{"before a silence", "after a silence"} {
		read := goRead(server)
		if i > 0 {
			time.Sleep(3 * limitOpts.FrameTimeout) // idle between messages: not limited
		}
		p.send(t, p.records(t, []byte(m)))
		if r := await(t, read, "ReadMessage"); r.err != nil || string(r.msg) != m {
			t.Fatalf("ReadMessage = %q, %v; want %q", r.msg, r.err, m)
		}
	}
}

// testPartialRecordRead: the bytes of a TLS record count as read ([transport.ReadCounter]) as
// they arrive, before the record is complete: the engine's idle probe and keep-alive see a
// peer that sends a message slowly, within the frame limits, as alive.
func testPartialRecordRead(t *testing.T, scheme string, peer TLSPeer) {
	l, cfg := tlsListen(t, scheme, limitOpts)
	p, server := tlsAccept(t, l, cfg, peer)
	rc, ok := server.(transport.ReadCounter)
	if !ok {
		t.Fatalf("%T does not implement transport.ReadCounter", server)
	}
	msg := pattern(8<<10, 4)
	wire := p.records(t, msg)
	read := goRead(server)
	before := rc.BytesRead()
	sent := time.Now()
	p.send(t, wire[:len(wire)/2])
	for rc.BytesRead() == before {
		if time.Since(sent) > limitOpts.FrameTimeout {
			t.Fatalf("BytesRead = %d, unchanged %v after half a TLS record of %d bytes arrived", before, time.Since(sent), len(wire))
		}
		time.Sleep(time.Millisecond) // BytesRead has no notification
	}
	p.send(t, wire[len(wire)/2:])
	if r := await(t, read, "ReadMessage"); r.err != nil || !bytes.Equal(r.msg, msg) {
		t.Fatalf("ReadMessage = %d bytes, %v; want the 8 KiB message", len(r.msg), r.err)
	}
}

// testTLSFlood: Flood connections each send part of a TLS record and stall, while a
// well-behaved client calls (sends a message and reads the echo) all along. Every stalled
// connection is cut by the frame timeout; the client is served throughout.
func testTLSFlood(t *testing.T, scheme string, peer TLSPeer) {
	offenders := peer.Flood
	if offenders == 0 {
		offenders = 200
	}
	if have := RaiseFDLimit(2*offenders + 256); have < 2*offenders+256 {
		offenders = (have - 256) / 2
		t.Logf("SIZED DOWN: the file descriptor limit is %d: %d stalled connections", have, offenders)
	}
	o := transport.Options{FrameTimeout: 500 * time.Millisecond}
	l, cfg := tlsListen(t, scheme, o)

	// The server: echo every message; count the connections cut for time.
	cut := serveEchoCountingCuts(t, l)

	// The offenders, each stalled inside a record of its own (a third in the header).
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	peers := make([]*tlsPeer, offenders)
	t.Cleanup(func() {
		for _, p := range peers {
			if p != nil {
				_ = p.raw.Close()
			}
		}
	})
	sem := make(chan struct{}, 16)
	var dialErr atomic.Pointer[error]
	var dials sync.WaitGroup
	for i := range peers {
		dials.Add(1)
		sem <- struct{}{}
		go func() {
			defer dials.Done()
			defer func() { <-sem }()
			p, err := dialTLS(ctx, l, cfg, peer)
			if err != nil {
				dialErr.Store(&err)
				return
			}
			peers[i] = p
		}()
	}
	dials.Wait()
	if e := dialErr.Load(); e != nil {
		t.Fatalf("TLS peer: %v", *e)
	}
	for i, p := range peers {
		record := p.records(t, pattern(2000, byte(i)))
		cutAt := len(record) / 2
		if i%3 == 0 {
			cutAt = 2
		}
		p.send(t, record[:cutAt])
	}

	// The well-behaved client calls until every offender is cut.
	client := Dial(t, l.Addr(), transport.Options{TLS: cfg})
	calls := 0
	deadline := time.Now().Add(timeout)
	for cut.Load() < int64(offenders) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d of %d connections stalled inside a TLS record were cut", timeout, cut.Load(), offenders)
		}
		msg := pattern(100, byte(calls))
		if err := client.WriteMessages(msg); err != nil {
			t.Fatalf("client call %d: %v", calls, err)
		}
		r := await(t, goRead(client), "the echo to the well-behaved client")
		if r.err != nil || !bytes.Equal(r.msg, msg) {
			t.Fatalf("client call %d: %q, %v", calls, r.msg, r.err)
		}
		calls++
		time.Sleep(10 * time.Millisecond) // the client's pace
	}
	t.Logf("%d connections stalled inside a TLS record cut; the client made %d calls meanwhile", offenders, calls)
	for i, p := range peers {
		_ = p.raw.Conn.SetReadDeadline(time.Now().Add(timeout))
		buf := make([]byte, 512)
		for {
			_, err := p.raw.Conn.Read(buf)
			if err == nil {
				continue
			}
			if isTimeout(err) {
				t.Fatalf("offender %d: raw read %v; want the end of the connection", i, err)
			}
			break
		}
	}
}
