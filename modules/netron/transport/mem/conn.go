package mem

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron/transport"
)

const (
	// maxQueued is how many unread messages one direction holds before writers block.
	maxQueued = 256
	// maxQueuedBytes is how many unread bytes one direction holds before writers block; a
	// single larger message passes when the queue is empty.
	maxQueuedBytes = 4 << 20
)

// pipe is one direction of a connection: a bounded queue of messages.
type pipe struct {
	mu       sync.Mutex
	readable sync.Cond // signalled when a message arrives or a side closes
	writable sync.Cond // signalled when room frees up or a side closes
	ring     [maxQueued][]byte
	head, n  int
	bytes    int
	// readerGone: the reading side closed; writes fail and the queue is dropped.
	readerGone bool
	// writerGone: the writing side closed; reads drain the queue, then see io.EOF.
	writerGone bool
}

func newPipe() *pipe {
	p := &pipe{}
	p.readable.L = &p.mu
	p.writable.L = &p.mu
	return p
}

// push queues m, waiting for room. It reports false when either side has closed.
func (p *pipe) push(m []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.readerGone && !p.writerGone &&
		(p.n == maxQueued || (p.n > 0 && p.bytes+len(m) > maxQueuedBytes)) {
		p.writable.Wait()
	}
	if p.readerGone || p.writerGone {
		return false
	}
	p.ring[(p.head+p.n)%maxQueued] = m
	p.n++
	p.bytes += len(m)
	p.readable.Signal()
	return true
}

// pop takes the next message, waiting for one. ok is false when the queue is empty and a side
// has closed; then readerGone tells which.
func (p *pipe) pop() (m []byte, ok, readerGone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n == 0 && !p.readerGone && !p.writerGone {
		p.readable.Wait()
	}
	if p.readerGone {
		return nil, false, true
	}
	if p.n == 0 {
		return nil, false, false
	}
	m = p.ring[p.head]
	p.ring[p.head] = nil
	p.head = (p.head + 1) % maxQueued
	p.n--
	p.bytes -= len(m)
	p.writable.Signal()
	return m, true, false
}

func (p *pipe) closeReader() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readerGone = true
	clear(p.ring[:])
	p.head, p.n, p.bytes = 0, 0, 0
	p.readable.Broadcast()
	p.writable.Broadcast()
}

func (p *pipe) closeWriter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.writerGone = true
	p.readable.Broadcast()
	p.writable.Broadcast()
}

// conn is one end of an in-process connection.
type conn struct {
	in, out       *pipe
	local, remote string
	max           int

	wmu       sync.Mutex // keeps the messages of one batch together
	closeOnce sync.Once
	closed    atomic.Bool
	readErr   error // owned by the single reader
}

// newPair returns two connected ends; each enforces its own frame limit.
func newPair(clientAddr, serverAddr string, clientMax, serverMax int) (client, server *conn) {
	up, down := newPipe(), newPipe()
	client = &conn{in: down, out: up, local: clientAddr, remote: serverAddr, max: clientMax}
	server = &conn{in: up, out: down, local: serverAddr, remote: clientAddr, max: serverMax}
	return client, server
}

func (c *conn) LocalAddr() string  { return c.local }
func (c *conn) RemoteAddr() string { return c.remote }

// ReadMessage returns the next message; the slice is the reader's own copy.
func (c *conn) ReadMessage() ([]byte, error) {
	if c.closed.Load() && c.readErr == io.EOF {
		return nil, closedErr("read from", c.remote)
	}
	if c.readErr != nil {
		return nil, c.readErr
	}
	m, ok, readerGone := c.in.pop()
	switch {
	case ok && len(m) > c.max:
		c.readErr = fmt.Errorf("%w: %s sent a message of %d bytes, the limit is %d; connection closed",
			transport.ErrFrameTooLarge, c.remote, len(m), c.max)
		_ = c.Close()
		return nil, c.readErr
	case ok:
		return m, nil
	case readerGone:
		return nil, closedErr("read from", c.remote)
	default:
		c.readErr = io.EOF
		return nil, io.EOF
	}
}

// WriteMessages copies msgs into one allocation and queues them in order, blocking while the
// peer's queue is full.
func (c *conn) WriteMessages(msgs ...[]byte) error {
	total := 0
	for i, m := range msgs {
		if len(m) > c.max {
			return fmt.Errorf("%w: message %d of %d is %d bytes, the limit is %d; nothing was written",
				transport.ErrFrameTooLarge, i+1, len(msgs), len(m), c.max)
		}
		total += len(m)
	}
	if len(msgs) == 0 {
		return nil
	}
	if c.closed.Load() {
		return closedErr("write to", c.remote)
	}
	slab := make([]byte, total)
	copies := make([][]byte, len(msgs))
	off := 0
	for i, m := range msgs {
		copies[i] = slab[off : off+len(m) : off+len(m)]
		off += copy(copies[i], m)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, m := range copies {
		if !c.out.push(m) {
			if c.closed.Load() {
				return closedErr("write to", c.remote)
			}
			return fmt.Errorf("mem: write to %s: the peer closed the connection: %w", c.remote, io.ErrClosedPipe)
		}
	}
	return nil
}

// Close closes both directions: the peer reads what was already queued, then io.EOF.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.in.closeReader()
		c.out.closeWriter()
	})
	return nil
}

var _ transport.Conn = (*conn)(nil)
