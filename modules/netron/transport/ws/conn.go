package ws

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/titanframework/titan/modules/netron/transport"
)

// ErrNoPong is matched by the errors of a connection that keep-alive dropped because the peer
// did not answer a ping in time.
var ErrNoPong = errors.New("ws: no pong from the peer")

// minRead is the smallest read buffer; keptBuffer the largest one kept between messages.
const (
	minRead    = 512
	keptBuffer = 64 << 10
)

// Conn is one WebSocket connection, dialed or accepted. It implements [transport.Conn] and,
// for accepted connections, [transport.Credentials].
type Conn struct {
	ws     *websocket.Conn
	raw    net.Conn // the TCP (or server-side TLS) connection under ws, dropped on stalls
	client bool
	limit  int
	local  string
	remote string
	token  string
	header http.Header
	tls    *tls.ConnectionState

	wmu sync.Mutex // serialises WriteMessages calls

	rbuf    []byte // the last message read; reused
	readErr error  // sticky read error; only the reader touches it

	// reads counts ReadMessage calls twice, as they begin and as they return: it is odd
	// while one is waiting, and keep-alive reads it (see keepAlive).
	reads atomic.Uint64

	closed    atomic.Bool
	closeOnce sync.Once
	pingErr   atomic.Pointer[error] // set when keep-alive dropped the connection
	stopPing  context.CancelFunc
	pingDone  chan struct{}
	release   func() // uncounts the connection from its listener's caps; may be nil

	// closeTimeout bounds the close handshake of Close; the TCP connection
	// is dropped when the peer has not answered by then
	// (transport.Options.CloseTimeout).
	closeTimeout time.Duration

	holdUntil time.Time // the first write waits until then (guarded by wmu)
}

type connConfig struct {
	client      bool
	limit       int
	local       string
	remote      string
	token       string
	header      http.Header
	tls         *tls.ConnectionState // of the upgrade request (wss://)
	pingEvery   time.Duration        // 0: no keep-alive
	pingTimeout time.Duration
	closeWait   time.Duration // 0: transport.DefaultCloseTimeout
	release     func()        // run once on Close
	holdUntil   time.Time     // see Conn.holdUntil
}

func newConn(wc *websocket.Conn, raw net.Conn, cfg connConfig) *Conn {
	wc.SetReadLimit(int64(cfg.limit))
	c := &Conn{
		ws: wc, raw: raw, client: cfg.client, limit: cfg.limit,
		local: cfg.local, remote: cfg.remote, token: cfg.token, header: cfg.header, tls: cfg.tls,
		release: cfg.release, holdUntil: cfg.holdUntil,
		closeTimeout: cmp.Or(cfg.closeWait, transport.DefaultCloseTimeout),
	}
	if cfg.pingEvery > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		c.stopPing = cancel
		c.pingDone = make(chan struct{})
		go c.keepAlive(ctx, cfg.pingEvery, cfg.pingTimeout)
	}
	return c
}

// ReadMessage returns the next message, binary or text. The slice is valid until the next
// call. A message above the frame limit closes the connection with status 1009 and returns an
// error matching [transport.ErrFrameTooLarge]; on accepted connections, a message (or control
// frame) begun and not completed within the listener's FrameTimeout or at its FrameMinRate
// drops the connection and returns an error matching [transport.ErrFrameTimeout]; a peer's
// close with status 1000, 1001 or none returns [io.EOF]. Errors are sticky. Safe to call from
// one goroutine at a time.
func (c *Conn) ReadMessage() ([]byte, error) {
	if c.closed.Load() {
		return nil, c.closedErr("read from")
	}
	if c.readErr != nil {
		return nil, c.readErr
	}
	c.reads.Add(1)
	defer c.reads.Add(1)
	if cap(c.rbuf) > keptBuffer {
		c.rbuf = nil
	}
	if cc, ok := c.raw.(*corkConn); ok {
		cc.calls.Add(1) // a message's clock runs from here (see readClock)
	}
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return nil, c.failRead(err)
	}
	buf := c.rbuf[:0]
	for {
		if len(buf) == cap(buf) {
			grow := max(cap(buf), minRead)
			if rest := c.limit + 1 - len(buf); rest > 0 && grow > rest {
				grow = rest // the limit reader stops at limit+1 bytes anyway
			}
			buf = slices.Grow(buf, grow)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			c.rbuf = buf
			return nil, c.failRead(err)
		}
	}
	c.rbuf = buf
	return buf, nil
}

// failRead turns a read error into the sticky error ReadMessage reports.
func (c *Conn) failRead(err error) error {
	cc, _ := c.raw.(*corkConn)
	switch {
	case c.closed.Load():
		return c.closedErr("read from")
	case c.pingErr.Load() != nil:
		err = *c.pingErr.Load()
	case cc != nil && cc.rc != nil && cc.rc.expired:
		// The read clock's deadline: the message did not come in time.
		_ = c.ws.CloseNow()
		err = cc.rc.clock.Expired(c.remote, -1, cc.rc.detail())
	case errors.Is(err, websocket.ErrMessageTooBig):
		// The library has sent close 1009; drop the connection without waiting for the answer.
		_ = c.ws.CloseNow()
		err = fmt.Errorf("%w: %s sent a message over the limit of %d bytes; connection closed",
			transport.ErrFrameTooLarge, c.remote, c.limit)
	default:
		switch code := websocket.CloseStatus(err); code {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
			err = io.EOF
		case -1:
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("ws: %s ended the connection without a close frame: %w", c.remote, io.ErrUnexpectedEOF)
			} else {
				err = fmt.Errorf("ws: read from %s: %w", c.remote, err)
			}
		default:
			err = fmt.Errorf("ws: %s closed the connection: %w", c.remote, err)
		}
	}
	c.readErr = err
	return err
}

// WriteMessages sends each message as one binary WebSocket message, in order; the messages of
// one call are never interleaved with another call's. A message above the frame limit is
// refused with [transport.ErrFrameTooLarge] before anything is written. On a connection
// accepted from a client that is not known to be a Go client (see [GoClientHeader]), the
// first call waits until 10 ms after the upgrade. Safe for concurrent use.
func (c *Conn) WriteMessages(msgs ...[]byte) error {
	if c.closed.Load() {
		return c.closedErr("write to")
	}
	for i, m := range msgs {
		if len(m) > c.limit {
			return fmt.Errorf("%w: message %d of %d is %d bytes, the limit is %d; nothing was written",
				transport.ErrFrameTooLarge, i+1, len(msgs), len(m), c.limit)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.holdUntil.IsZero() {
		// The original titan Node client listens for the server's id message only once its
		// socket is open; one that comes with the upgrade response is lost
		// (NETRON-WIRE.md §4.2 step 3). The original server waits 10 ms; so do we.
		if d := time.Until(c.holdUntil); d > 0 {
			time.Sleep(d)
		}
		c.holdUntil = time.Time{}
		if c.closed.Load() {
			return c.closedErr("write to")
		}
	}
	// Several messages leave in one write (see corkConn).
	cc, _ := c.raw.(*corkConn)
	if len(msgs) == 1 {
		cc = nil
	}
	if cc != nil {
		cc.cork()
	}
	for _, m := range msgs {
		if err := c.ws.Write(context.Background(), websocket.MessageBinary, m); err != nil {
			if cc != nil {
				_ = cc.uncork()
			}
			return c.writeErr(err)
		}
	}
	if cc != nil {
		if err := cc.uncork(); err != nil {
			return c.writeErr(err)
		}
	}
	return nil
}

// writeErr describes a failed write.
func (c *Conn) writeErr(err error) error {
	switch {
	case c.closed.Load():
		return c.closedErr("write to")
	case c.pingErr.Load() != nil:
		return *c.pingErr.Load()
	}
	return fmt.Errorf("ws: write to %s: %w", c.remote, err)
}

// Writes returns the number of writes issued to the connection under the
// WebSocket: one per WriteMessages batch, however many messages it holds
// (and one per control frame the library sends outside a batch).
func (c *Conn) Writes() uint64 {
	if cc, ok := c.raw.(*corkConn); ok {
		return cc.writes.Load()
	}
	return 0
}

// Close runs the close handshake, with status 1001 "Server closing" on accepted connections
// and 1000 on dialed ones, and drops the connection when the peer has not answered within a
// second. It unblocks pending ReadMessage and WriteMessages calls and is idempotent: calls
// after the first return nil.
func (c *Conn) Close() error {
	if c.client {
		return c.closeWith(websocket.StatusNormalClosure, "")
	}
	return c.closeWith(websocket.StatusGoingAway, "Server closing")
}

// StatusRejected is the close status of [Conn.Reject]: 4001, as the original server closes a
// connection whose token its authentication refused (NETRON-WIRE.md §4.4).
const StatusRejected websocket.StatusCode = 4001

// maxCloseReason is the longest close reason a close frame carries (RFC 6455 §5.5).
const maxCloseReason = 123

// Reject closes the connection like Close, with status 4001 and reason (cut to 123 bytes at
// a UTF-8 boundary), as the original server refuses a connection's credentials. It implements
// [transport.Rejecter].
func (c *Conn) Reject(reason string) error {
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	return c.closeWith(StatusRejected, reason)
}

// Ping sends a ping control frame and waits for the pong or for ctx to end. The pong is read
// by ReadMessage, so the connection's owner must be reading. It implements
// [transport.Pinger]. Safe for concurrent use.
func (c *Conn) Ping(ctx context.Context) error {
	if c.closed.Load() {
		return c.closedErr("ping")
	}
	if err := c.ws.Ping(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ws: ping %s: no pong: %w", c.remote, ctx.Err())
		}
		return c.writeErr(err)
	}
	return nil
}

func (c *Conn) closeWith(code websocket.StatusCode, reason string) error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		if c.release != nil {
			defer c.release()
		}
		if c.stopPing != nil {
			c.stopPing()
			<-c.pingDone
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.ws.Close(code, reason) // a failed handshake still closes the connection
		}()
		t := time.NewTimer(c.closeTimeout)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = c.raw.Close() // unblocks the handshake and any stalled reader or writer
			<-done
		}
	})
	return nil
}

// keepAlive pings the peer every interval and drops the connection when a pong does not come
// within timeout. It ends when ctx is cancelled by Close.
//
// Pongs are read only by ReadMessage, and the engine stops calling it while the connection is
// at its cap of calls (back-pressure): a pong the connection's owner is not reading proves
// nothing about the peer. So a ping is sent only while a ReadMessage is waiting, and a late
// pong drops the connection only when that same ReadMessage waited all along, and no byte
// arrived meanwhile (a peer answers a ping only after the frame it is sending, which may take
// long at FrameMinRate); a connection whose owner does not read is left to the owner (the
// engine's idle probe).
func (c *Conn) keepAlive(ctx context.Context, every, timeout time.Duration) {
	defer close(c.pingDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reads := c.reads.Load()
		if reads%2 == 0 { // no ReadMessage waiting: nobody would read the pong
			continue
		}
		got := c.BytesRead()
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.ws.Ping(pctx)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && c.reads.Load() != reads {
			continue // the reader returned meanwhile: the pong may be waiting unread
		}
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && c.BytesRead() != got {
			// The peer is sending: its pong may come after the message it is in the middle
			// of (a frame is written whole before a pong), which may take longer than timeout
			// at FrameMinRate.
			continue
		}
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			perr := fmt.Errorf("%w: %s did not answer a ping within %v; connection dropped", ErrNoPong, c.remote, timeout)
			c.pingErr.Store(&perr)
			_ = c.raw.Close()
		}
		return
	}
}

// BytesRead returns the bytes read from the connection so far, those of a message still arriving
// included (0 when they are not counted); over wss with a frame timeout, those of the TLS
// records as they arrive on the wire. It implements [transport.ReadCounter].
func (c *Conn) BytesRead() uint64 {
	if cc, ok := c.raw.(*corkConn); ok {
		return cc.received.Load()
	}
	return 0
}

func (c *Conn) closedErr(op string) error {
	return fmt.Errorf("ws: %s %s: %w", op, c.remote, net.ErrClosed)
}

// LocalAddr returns this side's address: the listener's address for accepted connections,
// ws://ip:port (or wss://) of the local socket for dialed ones.
func (c *Conn) LocalAddr() string { return c.local }

// RemoteAddr returns the peer's address: the dialed URL without its query for dialed
// connections, ws://ip:port (or wss://) of the client for accepted ones.
func (c *Conn) RemoteAddr() string { return c.remote }

// TLS returns the TLS state of an accepted wss:// connection (its client
// certificate, when it presented one), or nil.
func (c *Conn) TLS() *tls.ConnectionState { return c.tls }

// Token returns the bearer token of the upgrade request, from its "Authorization: Bearer"
// header or else its token query parameter; "" when there was none and on dialed
// connections. It implements [transport.Credentials].
func (c *Conn) Token() string { return c.token }

// Header returns the header of the upgrade request for accepted connections and nil for dialed
// ones. The caller must not modify it.
func (c *Conn) Header() http.Header { return c.header }

var (
	_ transport.Conn        = (*Conn)(nil)
	_ transport.Credentials = (*Conn)(nil)
	_ transport.Rejecter    = (*Conn)(nil)
	_ transport.Pinger      = (*Conn)(nil)
	_ transport.ReadCounter = (*Conn)(nil)
)
