package framed

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/internal/limit"
	"github.com/titanframework/titan/modules/netron/transport/internal/tlsrecord"
)

const (
	// readBufferSize is the size of the buffered reader over the socket.
	readBufferSize = 64 << 10
	// firstStep is the first growth of the frame buffer for a frame longer than it holds.
	firstStep = 64 << 10
	// growStep bounds how far the frame buffer grows ahead of the bytes that have arrived.
	growStep = 1 << 20
	// keepBuffer is the largest frame buffer kept between reads once a smaller frame follows.
	keepBuffer = 1 << 20
	// copyLimit is the largest body copied into the batch buffer; longer bodies are written
	// from the caller's slice as their own vector element. With vectored writes (TCP and Unix
	// sockets) a vector element costs less than copying bodies above vecCopyLimit (measured:
	// 4 KiB echoes 15 % and 4 KiB streams 40 % faster than with the 8 KiB limit); elsewhere each
	// element is a write call of its own, so more is copied.
	copyLimit    = 8 << 10
	vecCopyLimit = 1 << 10
	// keepScratch is the largest batch buffer kept between writes.
	keepScratch = 256 << 10
)

// Config configures [NewConn] and [NewListener]. The zero value uses
// [transport.DefaultMaxFrameSize] and [FormatAddr], and limits nothing else.
type Config struct {
	// MaxFrameSize is the largest message sent or accepted, in bytes. Zero means
	// [transport.DefaultMaxFrameSize]; values above the u32 range are clamped to it.
	MaxFrameSize int
	// Addr formats socket addresses as URLs for LocalAddr, RemoteAddr and Addr. Nil means
	// [FormatAddr].
	Addr func(net.Addr) string
	// Limits bounds connections as [transport.Options] describes, zero fields meaning no
	// limit ([transport.Options.Limits] gives them with the defaults applied). FrameTimeout
	// and FrameMinRate apply to every connection; HandshakeTimeout, MaxConns and
	// MaxConnsPerIP to a listener's; the HTTP fields are not used.
	Limits transport.Limits
	// TLS, when not nil, makes [NewListener] serve TLS: an accepted connection completes its
	// handshake within Limits.HandshakeTimeout, or is closed, before Accept returns it; its
	// frames are then timed from their first byte on the wire (see [Conn.ReadMessage]).
	// NewConn ignores it (wrap the connection yourself).
	TLS *tls.Config
	// Logger receives a listener's warnings (connections refused over a cap) and, at debug
	// level, failed TLS handshakes. Nil means none.
	Logger *slog.Logger
}

func (c Config) limit() int {
	if c.MaxFrameSize <= 0 {
		return transport.DefaultMaxFrameSize
	}
	return int(min(uint64(c.MaxFrameSize), 1<<32-1))
}

func (c Config) format(a net.Addr) string {
	if c.Addr != nil {
		return c.Addr(a)
	}
	return FormatAddr(a)
}

// WithZone returns a, the address the system reports for a listener bound to hostport, with
// the zone of hostport's host when a is a TCP address without one: the system does not report
// the zone of a listener bound to a link-local address (fe80::1%eth0), without which the
// address cannot be dialled. Otherwise it returns a.
func WithZone(a net.Addr, hostport string) net.Addr {
	host, _, _ := net.SplitHostPort(hostport)
	_, zone, ok := strings.Cut(host, "%")
	ta, isTCP := a.(*net.TCPAddr)
	if !ok || !isTCP || ta.Zone != "" {
		return a
	}
	za := *ta
	za.Zone = zone
	return &za
}

// FormatAddr formats a socket address as a URL: tcp://127.0.0.1:7070, tcp://[::1]:7070,
// tcp://[fe80::1%25eth0]:7070 (a zone escaped as in URLs, RFC 6874), unix:///abs/path (path
// escaped as in URLs; unix:rel/path for a relative path, "unix:" for an unnamed socket), and
// network://address for other networks. A nil address gives "".
func FormatAddr(a net.Addr) string {
	switch a := a.(type) {
	case nil:
		return ""
	case *net.UnixAddr:
		if a == nil || a.Name == "" || a.Name == "@" {
			return "unix:"
		}
		if a.Name[0] == '/' {
			return (&url.URL{Scheme: "unix", Path: a.Name}).String()
		}
		return "unix:" + a.Name
	case *net.TCPAddr:
		if a == nil {
			return "tcp:"
		}
		return (&url.URL{Scheme: "tcp", Host: a.String()}).String()
	default:
		return a.Network() + "://" + a.String()
	}
}

// Conn is a [transport.Conn] over a byte stream. It also implements [transport.WriteCounter]
// and [transport.ReadCounter].
// ReadMessage may be called from one goroutine at a time; the other methods are safe for
// concurrent use.
type Conn struct {
	nc     net.Conn
	max    int
	local  string
	remote string
	// vectored reports that net.Buffers.WriteTo on nc is one writev call.
	vectored bool

	closeOnce sync.Once
	closed    atomic.Bool

	// Read side, owned by the single reader.
	br      readerState
	read    atomic.Uint64 // bytes read from nc, for BytesRead
	readErr error
	clock   limit.FrameClock // the deadline of the frame being read
	size    int64            // its length, -1 while its header is incomplete
	// records is the socket under nc when nc is a *tls.Conn a Listener made and frames are
	// timed: the clock then runs from a frame's first byte on the wire and counts the bytes
	// of its TLS records (see wireClock).
	records *tlsrecord.Conn

	onClose func() // run once by Close: releases the listener's count

	// Write side, guarded by wmu.
	wmu      sync.Mutex
	scratch  []byte
	segs     [][]byte
	vec      net.Buffers
	writeErr error
	writes   atomic.Uint64
}

type readerState struct {
	r   *bufio.Reader
	hdr [4]byte
	buf []byte
}

// NewConn wraps nc. The returned Conn owns nc: closing it closes nc. NewConn starts no
// goroutines.
func NewConn(nc net.Conn, cfg Config) *Conn {
	c := &Conn{
		nc:     nc,
		max:    cfg.limit(),
		local:  cfg.format(nc.LocalAddr()),
		remote: cfg.format(nc.RemoteAddr()),
		clock:  limit.FrameClock{Timeout: cfg.Limits.FrameTimeout, Rate: cfg.Limits.FrameMinRate},
	}
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.vectored = true
	}
	var src io.Reader = countingReader{nc, &c.read}
	if rc := tlsrecord.Of(nc); rc != nil && c.clock.On() {
		c.records = rc
		rc.Watch((*wireClock)(c))
		src = nc // its bytes are counted on the wire (wireClock.Arrived)
	}
	c.br.r = bufio.NewReaderSize(src, readBufferSize)
	return c
}

// NetConn returns the wrapped connection, e.g. to inspect a *tls.Conn's state. Reading from or
// writing to it directly breaks the framing.
func (c *Conn) NetConn() net.Conn { return c.nc }

// LocalAddr returns the local address as a URL.
func (c *Conn) LocalAddr() string { return c.local }

// RemoteAddr returns the peer's address as a URL.
func (c *Conn) RemoteAddr() string { return c.remote }

// Writes returns the number of write calls issued to the wrapped connection: one per
// WriteMessages batch on TCP and Unix sockets (the kernel may still take a batch in several
// writev calls when the socket buffer fills or a batch has more than 1024 vector elements), and
// one per packed buffer on other connections.
func (c *Conn) Writes() uint64 { return c.writes.Load() }

// BytesRead returns the bytes read from the wrapped connection so far, those of a frame still
// arriving included: over TLS served by a [Listener] that times frames, those of the TLS
// records as they arrive on the wire; over other TLS connections, as records are decrypted.
func (c *Conn) BytesRead() uint64 { return c.read.Load() }

// countingReader counts in n the bytes read from r.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (cr countingReader) Read(b []byte) (int, error) {
	n, err := cr.r.Read(b)
	cr.n.Add(uint64(n))
	return n, err
}

// Close closes the connection, unblocking pending reads and writes. The first call returns the
// wrapped connection's Close error; later calls return nil.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		err = c.nc.Close()
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

func (c *Conn) closedErr(op string) error {
	return fmt.Errorf("framed: %s %s: %w", op, c.remote, net.ErrClosed)
}

// ReadMessage returns the next message. The slice is valid until the next ReadMessage call.
// A clean end of stream between frames returns [io.EOF]; an end inside a frame returns an error
// matching [io.ErrUnexpectedEOF]. A declared length above the limit returns an error matching
// [transport.ErrFrameTooLarge] and closes the connection; so does a frame not completed within
// Limits.FrameTimeout or at Limits.FrameMinRate, with an error matching
// [transport.ErrFrameTimeout]. Once a read fails, later reads return the same error, or, once
// Close has been called, one matching [net.ErrClosed] unless the failure was one of those
// limits.
//
// The frame deadline costs nothing while whole frames arrive: it is set on the connection only
// when a frame has begun and is not all in the read buffer, and cleared when it is complete.
// Over TLS served by a [Listener], a frame begins with the first byte of a TLS record on the
// wire and its bytes are counted in records as they arrive, so a peer that stops inside a
// record is cut as inside a frame; whole records cost no deadline either.
func (c *Conn) ReadMessage() ([]byte, error) {
	if c.closed.Load() && !closedByLimit(c.readErr) {
		return nil, c.closedErr("read from")
	}
	if c.readErr != nil {
		return nil, c.readErr
	}
	msg, err := c.readFrame()
	if err != nil {
		// Over TLS a deadline may also end a read after the frame it timed was returned
		// (crypto/tls read on for an alert), so the clock has stopped.
		if (c.clock.Running() || c.records != nil) && errors.Is(err, os.ErrDeadlineExceeded) && !c.closed.Load() {
			err = c.expired()
			_ = c.Close()
		} else if c.closed.Load() && !errors.Is(err, transport.ErrFrameTooLarge) {
			err = c.closedErr("read from")
		}
		c.readErr = err
		return nil, err
	}
	if c.clock.Running() {
		c.clock.Stop()
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	return msg, nil
}

// closedByLimit reports whether err is that of a read that closed the connection for breaking
// a limit: later reads return it even though the connection is closed.
func closedByLimit(err error) bool {
	return errors.Is(err, transport.ErrFrameTooLarge) || errors.Is(err, transport.ErrFrameTimeout)
}

// startClock waits, without a deadline, for the first byte of the next frame; then, unless
// the whole frame is in the read buffer, it starts the frame's clock and sets its deadline.
func (c *Conn) startClock() error {
	r := c.br.r
	if r.Buffered() == 0 {
		if _, err := r.Peek(1); err != nil {
			return err
		}
	}
	if n := r.Buffered(); n >= 4 {
		hdr, _ := r.Peek(4)
		if size := uint64(binary.BigEndian.Uint32(hdr)); size > uint64(c.max) || 4+size <= uint64(n) {
			return nil // complete, or refused before its body is read
		}
	}
	c.size = -1
	if c.clock.Running() { // started on the wire (wireClock)
		return nil
	}
	return c.nc.SetReadDeadline(c.clock.Start(time.Now(), r.Buffered()))
}

// progress counts n bytes of the frame that arrived in the read buffer, moving its deadline,
// unless its bytes are counted on the wire (wireClock).
func (c *Conn) progress(n int) {
	if c.records != nil {
		return
	}
	if d, ok := c.clock.Progress(n); ok {
		_ = c.nc.SetReadDeadline(d)
	}
}

// expired returns the error of a frame that ran out of time.
func (c *Conn) expired() error {
	if c.records == nil {
		return c.clock.Expired(c.remote, c.wireSize(), "")
	}
	detail := "counted in TLS records"
	if s := c.records.Stalled(); s != "" {
		detail += "; " + s
	}
	return c.clock.Expired(c.remote, -1, detail)
}

// readFull is io.ReadFull from the read buffer, moving the frame's deadline as bytes arrive.
func (c *Conn) readFull(b []byte) (int, error) {
	if !c.clock.Running() {
		return io.ReadFull(c.br.r, b)
	}
	r := c.br.r
	n := 0
	for n < len(b) {
		before := r.Buffered()
		m, err := r.Read(b[n:])
		n += m
		c.progress(r.Buffered() + m - before) // the bytes that arrived
		if err != nil {
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

// peek is Peek(size) of the read buffer (size at most its capacity), moving the frame's
// deadline as bytes arrive.
func (c *Conn) peek(size int) ([]byte, error) {
	r := c.br.r
	if !c.clock.Running() {
		return r.Peek(size)
	}
	for r.Buffered() < size {
		before := r.Buffered()
		_, err := r.Peek(before + 1) // one read from the connection
		c.progress(r.Buffered() - before)
		if err != nil {
			b, _ := r.Peek(r.Buffered())
			return b, err
		}
	}
	return r.Peek(size)
}

func (c *Conn) readFrame() ([]byte, error) {
	rs := &c.br
	if c.clock.On() {
		if err := c.startClock(); err != nil {
			return nil, err
		}
	}
	if _, err := c.readFull(rs.hdr[:]); err != nil {
		switch {
		case err == io.EOF:
			return nil, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("framed: %s: stream ended inside a frame header: %w", c.remote, io.ErrUnexpectedEOF)
		default:
			return nil, err
		}
	}
	n := binary.BigEndian.Uint32(rs.hdr[:])
	if uint64(n) > uint64(c.max) {
		err := fmt.Errorf("%w: %s declared a frame of %d bytes, the limit is %d; connection closed",
			transport.ErrFrameTooLarge, c.remote, n, c.max)
		c.readErr = err
		_ = c.Close()
		return nil, err
	}
	size := int(n)
	c.size = int64(size)
	if cap(rs.buf) > keepBuffer && size <= keepBuffer {
		rs.buf = nil // release a large buffer once frames are small again
	}
	if size <= rs.r.Size() {
		// The frame fits the read buffer: return it from there, without a
		// copy (valid until the next read, as ReadMessage promises).
		b, err := c.peek(size)
		if err != nil {
			return nil, c.bodyErr(err, len(b), size)
		}
		_, _ = rs.r.Discard(size)
		return b, nil
	}
	if size <= cap(rs.buf) {
		b := rs.buf[:size]
		if m, err := c.readFull(b); err != nil {
			return nil, c.bodyErr(err, m, size)
		}
		return b, nil
	}
	// Grow with the bytes that arrive: start at 64 KiB, double, and never run more than
	// growStep ahead of what has been read.
	b := rs.buf[:0]
	for len(b) < size {
		step := min(size-len(b), max(len(b), firstStep), growStep)
		b = slices.Grow(b, step)
		m, err := c.readFull(b[len(b) : len(b)+step])
		b = b[:len(b)+m]
		if err != nil {
			rs.buf = b[:0]
			return nil, c.bodyErr(err, len(b), size)
		}
	}
	rs.buf = b
	return b, nil
}

func (c *Conn) bodyErr(err error, got, size int) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("framed: %s: stream ended after %d of %d frame bytes: %w", c.remote, got, size, io.ErrUnexpectedEOF)
	}
	return err
}

// WriteMessages writes msgs as one batch: the length prefixes and the bodies of up to 1 KiB (8
// KiB on connections without vectored writes) are packed into one buffer, longer bodies are
// referenced in place, and the whole batch goes out in one vectored write. It is safe for
// concurrent use; batches never interleave. A message above the limit is refused with
// [transport.ErrFrameTooLarge] before anything is written. A failed write may leave a partial
// frame on the wire, so it closes the connection.
func (c *Conn) WriteMessages(msgs ...[]byte) error {
	limit := copyLimit
	if c.vectored {
		limit = vecCopyLimit
	}
	packed := 0
	for i, m := range msgs {
		if len(m) > c.max {
			return fmt.Errorf("%w: message %d of %d is %d bytes, the limit is %d; nothing was written",
				transport.ErrFrameTooLarge, i+1, len(msgs), len(m), c.max)
		}
		packed += 4
		if len(m) <= limit {
			packed += len(m)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed.Load() {
		return c.closedErr("write to")
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if cap(c.scratch) < packed {
		c.scratch = make([]byte, 0, packed)
	}
	s := c.scratch[:0]
	segs := c.segs[:0]
	start := 0
	for _, m := range msgs {
		s = binary.BigEndian.AppendUint32(s, uint32(len(m)))
		if len(m) <= limit {
			s = append(s, m...)
			continue
		}
		segs = append(segs, s[start:], m)
		start = len(s)
	}
	if start < len(s) {
		segs = append(segs, s[start:])
	}
	var err error
	switch {
	case len(segs) == 1:
		c.writes.Add(1)
		_, err = c.nc.Write(segs[0])
	case c.vectored:
		c.writes.Add(1)
		c.vec = segs // a field, so WriteTo's pointer receiver costs no allocation
		_, err = c.vec.WriteTo(c.nc)
		c.vec = nil
	default:
		for _, seg := range segs {
			c.writes.Add(1)
			if _, err = c.nc.Write(seg); err != nil {
				break
			}
		}
	}
	clear(segs) // drop references to the caller's slices
	c.segs = segs[:0]
	if cap(s) > keepScratch {
		c.scratch = nil
	} else {
		c.scratch = s[:0]
	}
	if err != nil {
		if c.closed.Load() {
			return c.closedErr("write to")
		}
		c.writeErr = fmt.Errorf("framed: write to %s: %w", c.remote, err)
		_ = c.Close()
		return c.writeErr
	}
	return nil
}

var _ interface {
	transport.Conn
	transport.WriteCounter
	transport.ReadCounter
} = (*Conn)(nil)

// wireSize returns the bytes of the frame being read, length prefix included, or -1 while its
// length is unknown.
func (c *Conn) wireSize() int64 {
	if c.size < 0 {
		return -1
	}
	return c.size + 4
}
