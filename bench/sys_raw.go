package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
)

// The raw system is the ceiling: a minimal length-prefixed echo with
// request ids, one TCP connection, no serialisation. A frame is
// u32 length | u32 id | u8 kind | body. A request of kind 0 asks for one
// echo; kind 1 asks for a stream: the first 4 body bytes are the count, the
// rest is echoed that many times (kind 1 frames, the last one kind 2).
func init() {
	register("raw", system{setup: setupRaw, note: "hand-written length-prefixed echo (ceiling)"})
}

type rawClient struct {
	conn    net.Conn
	wmu     sync.Mutex
	w       *bufio.Writer
	pending [64]struct { // id -> chan []byte, sharded by id
		sync.Mutex
		m map[uint32]chan []byte
	}
	nextID atomic.Uint32
	flush  chan struct{}
}

func (c *rawClient) store(id uint32, ch chan []byte) {
	s := &c.pending[id%64]
	s.Lock()
	if s.m == nil {
		s.m = map[uint32]chan []byte{}
	}
	s.m[id] = ch
	s.Unlock()
}

func (c *rawClient) load(id uint32, remove bool) chan []byte {
	s := &c.pending[id%64]
	s.Lock()
	ch := s.m[id]
	if remove {
		delete(s.m, id)
	}
	s.Unlock()
	return ch
}

// writeFrame and readFrame build and parse the header in the buffered
// writer's and reader's own buffers: a header array of their own would
// escape to the heap (through the io.Writer and io.Reader below them),
// an allocation per frame on each side that the ceiling must not pay.
func writeFrame(w *bufio.Writer, id uint32, kind byte, body []byte) error {
	h := binary.BigEndian.AppendUint32(w.AvailableBuffer(), uint32(5+len(body)))
	h = binary.BigEndian.AppendUint32(h, id)
	if _, err := w.Write(append(h, kind)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

func readFrame(r *bufio.Reader, buf []byte) (id uint32, kind byte, body []byte, err error) {
	h, err := r.Peek(9)
	if err != nil {
		return
	}
	n := int(binary.BigEndian.Uint32(h[0:])) - 5
	id, kind = binary.BigEndian.Uint32(h[4:]), h[8]
	if _, err = r.Discard(9); err != nil {
		return
	}
	if n < 0 {
		return 0, 0, nil, errors.New("bad frame")
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	body = buf[:n]
	_, err = io.ReadFull(r, body)
	return id, kind, body, err
}

func serveRaw(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 256<<10)
	w := bufio.NewWriterSize(c, 256<<10)
	var mu sync.Mutex
	var buf []byte
	for {
		id, kind, body, err := readFrame(r, buf)
		if err != nil {
			return
		}
		buf = body[:0]
		mu.Lock()
		if kind == 0 {
			err = writeFrame(w, id, 0, body)
		} else {
			n := int(binary.BigEndian.Uint32(body))
			for i := 0; i < n && err == nil; i++ {
				k := byte(1)
				if i == n-1 {
					k = 2 // last
				}
				err = writeFrame(w, id, k, body[4:])
			}
		}
		if err == nil && r.Buffered() == 0 {
			err = w.Flush()
		}
		mu.Unlock()
		if err != nil {
			return
		}
	}
}

func setupRaw(caseSpec) (*bench, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRaw(c)
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		return nil, err
	}
	cl := &rawClient{conn: conn, w: bufio.NewWriterSize(conn, 256<<10), flush: make(chan struct{}, 1)}
	go cl.readLoop()
	go cl.flushLoop()
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			ch := make(chan []byte, 1)
			_, err := cl.send(ch, 0, payloadBytes(payload))
			if err != nil {
				return err
			}
			return echoed(<-ch, payload)
		},
		stream: func(ctx context.Context, payload string, n int) (int, error) {
			// Room for every item and the end: the one reader never waits
			// for this stream's consumer, so no stream holds up another's
			// items (Netron's reader files items in per-stream queues).
			ch := make(chan []byte, n+1)
			body := binary.BigEndian.AppendUint32(nil, uint32(n))
			if _, err := cl.send(ch, 1, append(body, payload...)); err != nil {
				return 0, err
			}
			got := 0
			for b := range ch {
				if b == nil {
					break
				}
				if err := echoed(b, payload); err != nil {
					return got, err
				}
				got++
			}
			return got, nil
		},
		conns:   1,
		cleanup: func() { conn.Close(); ln.Close() },
	}, nil
}

func (c *rawClient) send(ch chan []byte, kind byte, body []byte) (uint32, error) {
	id := c.nextID.Add(1)
	c.store(id, ch)
	c.wmu.Lock()
	err := writeFrame(c.w, id, kind, body)
	c.wmu.Unlock()
	select {
	case c.flush <- struct{}{}:
	default:
	}
	return id, err
}

// flushLoop coalesces the writes of concurrent callers: it yields once
// before flushing, so that callers ready to send join the write (the same
// technique as Netron's writer and grpc-go's loopy writer).
func (c *rawClient) flushLoop() {
	for range c.flush {
		runtime.Gosched()
		c.wmu.Lock()
		err := c.w.Flush()
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *rawClient) readLoop() {
	r := bufio.NewReaderSize(c.conn, 256<<10)
	for {
		id, kind, body, err := readFrame(r, nil)
		if err != nil {
			close(c.flush)
			return
		}
		ch := c.load(id, kind != 1)
		if ch == nil {
			continue
		}
		switch kind {
		case 0:
			ch <- body
		case 1:
			ch <- body
		case 2:
			ch <- body
			ch <- nil
		}
	}
}
