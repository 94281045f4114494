package framed_test

import (
	"io"
	"net"
	"time"
)

// streamConn is a net.Conn over a reader and a writer, for deterministic tests without
// goroutines.
type streamConn struct {
	r      io.Reader
	w      io.Writer
	closed bool
}

func (c *streamConn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.r.Read(p)
}

func (c *streamConn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.w.Write(p)
}

func (c *streamConn) Close() error                     { c.closed = true; return nil }
func (c *streamConn) LocalAddr() net.Addr              { return fakeAddr("local") }
func (c *streamConn) RemoteAddr() net.Addr             { return fakeAddr("remote") }
func (c *streamConn) SetDeadline(time.Time) error      { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error  { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error { return nil }

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

// repeatReader yields data over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], r.data[r.off:])
		n += m
		r.off = (r.off + m) % len(r.data)
	}
	return n, nil
}

// countingWriter counts its Write calls and the bytes written.
type countingWriter struct {
	calls int
	buf   []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	w.buf = append(w.buf, p...)
	return len(p), nil
}
