package ws

import (
	"net"
	"sync"
	"sync/atomic"
)

// keptCork is the largest batch buffer a corkConn keeps between batches.
const keptCork = 64 << 10

// corkConn is the connection under the WebSocket library. The library
// flushes every message with a write of its own; while a batch of
// messages is being written (corked), corkConn gathers those writes and
// sends them with one write at the end, so a batch of small messages costs
// one syscall as it does on the framed transports. Writes the library
// makes from other goroutines meanwhile (pongs, the close frame) join the
// batch in their order.
type corkConn struct {
	net.Conn

	mu     sync.Mutex // orders writes; held while writing to the socket
	corked bool
	buf    []byte
	writes atomic.Uint64 // writes issued to the connection
}

func newCorkConn(c net.Conn) *corkConn { return &corkConn{Conn: c} }

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
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
	if len(c.buf) == 0 {
		return nil
	}
	c.writes.Add(1)
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > keptCork {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}
