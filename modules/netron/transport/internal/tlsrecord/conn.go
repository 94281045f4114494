package tlsrecord

import (
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
)

// headerLen is the length of a TLS record header.
const headerLen = 5

// A Watcher is told of the reads from the socket of a [Conn], in the goroutine that reads
// (the one reading from the *tls.Conn over it).
type Watcher interface {
	// Reading is called before each read from the socket. pending is the number of bytes read
	// so far of a record not yet complete, 0 between records: when it is not 0 the TLS layer
	// waits for the rest of a record, so a message (or some other record) has begun on the
	// wire.
	Reading(pending int)
	// Arrived is called after each read from the socket with the number of bytes it returned.
	Arrived(n int)
}

// Conn is a socket under a *tls.Conn that follows the TLS records read from it and tells its
// [Watcher]. Reads are meant for one goroutine at a time, as crypto/tls makes them; the other
// methods are those of the socket.
type Conn struct {
	net.Conn

	w    Watcher
	hdr  [headerLen]byte // the header being gathered
	hlen int
	left int // body bytes of the current record not read yet
	size int // body length of the current record
}

// New wraps the socket nc, to be given to [tls.Server].
func New(nc net.Conn) *Conn { return &Conn{Conn: nc} }

// Of returns the Conn under tc, a *tls.Conn made over one, or nil.
func Of(tc net.Conn) *Conn {
	t, ok := tc.(*tls.Conn)
	if !ok {
		return nil
	}
	c, _ := t.NetConn().(*Conn)
	return c
}

// Watch makes w the watcher of the reads to come; nil stops watching. It must not be called
// during a read.
func (c *Conn) Watch(w Watcher) { c.w = w }

// Read reads from the socket, telling the watcher before and after.
func (c *Conn) Read(p []byte) (int, error) {
	if c.w != nil {
		c.w.Reading(c.Pending())
	}
	n, err := c.Conn.Read(p)
	c.scan(p[:n])
	if c.w != nil && n > 0 {
		c.w.Arrived(n)
	}
	return n, err
}

// Pending returns the number of bytes read so far of a record not yet complete, 0 between
// records.
func (c *Conn) Pending() int {
	if c.hlen > 0 {
		return c.hlen
	}
	if c.left > 0 {
		return headerLen + c.size - c.left
	}
	return 0
}

// Stalled describes the record not yet complete, as "a TLS record stopped at 3 of the 5
// bytes of its header" or "a TLS record stopped at 517 of its 1046 bytes"; "" between records.
func (c *Conn) Stalled() string {
	switch {
	case c.hlen > 0:
		return fmt.Sprintf("a TLS record stopped at %d of the %d bytes of its header", c.hlen, headerLen)
	case c.left > 0:
		return fmt.Sprintf("a TLS record stopped at %d of its %d bytes", c.Pending(), headerLen+c.size)
	}
	return ""
}

// scan follows the records in p, the next bytes read.
func (c *Conn) scan(p []byte) {
	for len(p) > 0 {
		if c.left > 0 {
			k := min(len(p), c.left)
			c.left -= k
			p = p[k:]
			continue
		}
		k := copy(c.hdr[c.hlen:], p)
		c.hlen += k
		p = p[k:]
		if c.hlen == headerLen {
			c.size = int(binary.BigEndian.Uint16(c.hdr[3:]))
			c.left, c.hlen = c.size, 0
		}
	}
}
