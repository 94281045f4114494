package ws

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

const (
	// corkChunk is the size of the pooled buffers a batch is gathered in.
	corkChunk = 64 << 10
	// corkFlush is how much a batch gathers at most before it is written
	// out, still corked, so that a batch of large messages does not hold
	// its whole size in copies.
	corkFlush = 1 << 20
)

// corkChunks holds the buffers of batches being gathered, shared by every
// connection: a connection keeps none between batches.
var corkChunks = sync.Pool{New: func() any { b := make([]byte, 0, corkChunk); return &b }}

// corkConn is the connection under the WebSocket library. The library
// flushes every message with a write of its own; while a batch of
// messages is being written (corked), corkConn gathers those writes in
// pooled chunks and sends them with one vectored write at the end, so a
// batch of small messages costs one syscall as it does on the framed
// transports. Writes the library makes from other goroutines meanwhile
// (pongs, the close frame) join the batch in their order.
//
// On accepted connections it also times the messages read (see readClock): the library reads
// through it.
type corkConn struct {
	net.Conn

	pending  []byte        // bytes read before the upgrade, returned by Read first
	rc       *readClock    // nil: no frame timeout
	calls    atomic.Uint64 // ReadMessage calls begun, for rc
	received atomic.Uint64 // bytes read from the medium, for BytesRead (see Arrived)

	mu       sync.Mutex // orders writes; held while writing to the socket
	corked   bool
	chunks   []*[]byte // the batch so far, in order
	gathered int
	iov      [][]byte      // scratch for the vectored write
	writes   atomic.Uint64 // writes issued to the connection
}

func newCorkConn(c net.Conn) *corkConn { return &corkConn{Conn: c} }

// Read reads from the connection, pending bytes first, and runs the read clock.
func (c *corkConn) Read(p []byte) (int, error) {
	var (
		n   int
		err error
	)
	if len(c.pending) > 0 {
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	} else {
		if c.rc != nil {
			c.rc.resume(c.Conn, c.calls.Load())
		}
		n, err = c.Conn.Read(p)
	}
	if c.rc == nil || c.rc.records == nil {
		c.received.Add(uint64(n))
	}
	if c.rc != nil {
		if n > 0 {
			c.rc.read(c.Conn, p[:n], c.calls.Load())
		}
		// Over TLS a deadline may also end a read after the message it timed was read
		// (crypto/tls read on for an alert), so the clock has stopped.
		if err != nil && (c.rc.clock.Running() || c.rc.records != nil) && errors.Is(err, os.ErrDeadlineExceeded) {
			c.rc.expired = true
		}
	}
	return n, err
}

// Reading is the read clock's, told by the socket under TLS before each read
// ([tlsrecord.Watcher]); it runs in Read, under the *tls.Conn's Read.
func (c *corkConn) Reading(pending int) { c.rc.reading(c.Conn, pending, c.calls.Load()) }

// Arrived is the read clock's, told by the socket under TLS after each read. The bytes count
// as received there, as they arrive: crypto/tls returns none of a record before it is whole.
func (c *corkConn) Arrived(n int) {
	c.received.Add(uint64(n))
	c.rc.arrived(c.Conn, n)
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		c.writes.Add(1)
		return c.Conn.Write(p)
	}
	n := len(p)
	for len(p) > 0 { // the library reuses p: copy it
		if len(c.chunks) == 0 || len(*c.chunks[len(c.chunks)-1]) == corkChunk {
			c.chunks = append(c.chunks, corkChunks.Get().(*[]byte))
		}
		last := c.chunks[len(c.chunks)-1]
		k := min(len(p), corkChunk-len(*last))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	if c.gathered += n; c.gathered >= corkFlush {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// cork starts holding writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was held, in one write, and stops holding writes.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

// flushLocked writes the gathered chunks with one vectored write (writev
// on a TCP connection) and puts them back in the pool.
func (c *corkConn) flushLocked() error {
	if len(c.chunks) == 0 {
		return nil
	}
	for _, ch := range c.chunks {
		c.iov = append(c.iov, *ch)
	}
	c.writes.Add(1)
	bufs := net.Buffers(c.iov)
	_, err := bufs.WriteTo(c.Conn)
	clear(c.iov)
	c.iov = c.iov[:0]
	for i, ch := range c.chunks {
		*ch = (*ch)[:0]
		corkChunks.Put(ch)
		c.chunks[i] = nil
	}
	c.chunks = c.chunks[:0]
	c.gathered = 0
	return err
}
