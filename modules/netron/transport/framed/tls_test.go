package framed_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// deadlineListener is a TCP listener whose connections count the bytes read from them and
// note the read deadlines set on them.
type deadlineListener struct {
	net.Listener
	conns chan *deadlineConn
}

func (l *deadlineListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &deadlineConn{Conn: nc}
	l.conns <- c
	return c, nil
}

type deadlineConn struct {
	net.Conn
	read atomic.Int64

	mu        sync.Mutex
	deadlines []time.Time
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadlines = append(c.deadlines, t)
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *deadlineConn) set() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.deadlines...)
}

// recordConn is a client's socket under TLS that keeps back what is written while capture is
// on, so that the test sends the TLS records itself.
type recordConn struct {
	net.Conn
	capture bool
	held    []byte
}

func (c *recordConn) Write(p []byte) (int, error) {
	if c.capture {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// record returns the TLS record tc writes for the frame of body.
func (c *recordConn) record(t *testing.T, tc *tls.Conn, body []byte) []byte {
	t.Helper()
	c.capture, c.held = true, nil
	defer func() { c.capture = false }()
	if _, err := tc.Write(frame(body)); err != nil {
		t.Fatal(err)
	}
	return c.held
}

// TestTLSFrameDeadlineOnlyForSplitRecords: over TLS with a frame timeout, frames in TLS records
// that arrive whole cost no read deadline on the socket; a record that arrives in two parts
// sets its deadline once, from its first part, and clears it when its frame is complete.
func TestTLSFrameDeadlineOnlyForSplitRecords(t *testing.T) {
	serverTLS, clientTLS := transporttest.TLSConfigs(t)
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dl := &deadlineListener{Listener: nl, conns: make(chan *deadlineConn, 1)}
	l := framed.NewListener(dl, framed.Config{TLS: serverTLS, Limits: transport.Limits{FrameTimeout: time.Minute}})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	nc, err := net.Dial("tcp", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	rc := &recordConn{Conn: nc}
	clientTLS.ServerName = "127.0.0.1"
	client := tls.Client(rc, clientTLS)
	defer client.Close()
	if err := client.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-accepted
	if r.err != nil {
		t.Fatal(r.err)
	}
	server := r.c
	defer server.Close()
	sc := <-dl.conns
	before := len(sc.set())

	for i := range 100 {
		body := fill(40, byte(i))
		if _, err := nc.Write(rc.record(t, client, body)); err != nil {
			t.Fatal(err)
		}
		if m, err := server.ReadMessage(); err != nil || !bytes.Equal(m, body) {
			t.Fatalf("frame %d: %q, %v", i, m, err)
		}
	}
	if n := len(sc.set()) - before; n != 0 {
		t.Fatalf("whole records: %d deadlines set, want none", n)
	}

	body := fill(1000, 7)
	record := rc.record(t, client, body)
	read := make(chan error, 1)
	go func() {
		m, err := server.ReadMessage()
		if err == nil && !bytes.Equal(m, body) {
			err = errSplitFrame
		}
		read <- err
	}()
	got := sc.read.Load()
	if _, err := nc.Write(record[:300]); err != nil {
		t.Fatal(err)
	}
	for sc.read.Load() < got+300 { // the server has read the first part
		if ctx.Err() != nil {
			t.Fatal("the server did not read the first part of the record")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := nc.Write(record[300:]); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatalf("split record: %v", err)
	}
	d := sc.set()[before:]
	if len(d) != 2 || d[0].IsZero() || !d[1].IsZero() {
		t.Fatalf("split record: deadlines %v, want one set and then cleared", d)
	}
}

var errSplitFrame = errors.New("the frame of the split record differs")
