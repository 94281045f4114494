package netron

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/protocol"
)

const pendingShards = 32

// pendingTable maps request ids to their waiting callers, sharded to keep
// lock contention low under many concurrent calls.
type pendingTable struct {
	shards [pendingShards]struct {
		mu sync.Mutex
		m  map[uint32]*pendingCall
	}
	sw        *sweeper    // the Netron's (see timeouts.go)
	swept     atomic.Bool // registered with the sweeper
	forgotten bool        // the connection ended (guarded by sw.mu)
}

type pendingCall struct {
	ch      chan response
	due     int64         // deadline in ns since epoch (see timeouts.go); 0: none
	timeout time.Duration // for the expiry's message
}

type response struct {
	pkt     protocol.Packet
	payload protocol.RawValue
	frame   *[]byte // pool holder of the frame payload aliases
	err     error
	expired bool // the sweeper failed the call: its timeout passed
}

func (t *pendingTable) init(sw *sweeper) {
	t.sw = sw
	for i := range t.shards {
		t.shards[i].m = map[uint32]*pendingCall{}
	}
}

var pendingPool = sync.Pool{New: func() any { return &pendingCall{ch: make(chan response, 1)} }}

// put recycles a pending call whose answer was received (its channel is
// empty and nobody else holds it).
func (t *pendingTable) put(pc *pendingCall) { pendingPool.Put(pc) }

// add registers a call awaiting its answer; a timeout of coarseMin or more
// is left to the sweeper.
func (t *pendingTable) add(id uint32, timeout time.Duration) *pendingCall {
	pc := pendingPool.Get().(*pendingCall)
	pc.due, pc.timeout = 0, 0
	if timeout >= coarseMin {
		if !t.swept.Load() {
			t.sweep()
		}
		pc.due, pc.timeout = due(timeout), timeout
	}
	s := &t.shards[id%pendingShards]
	s.mu.Lock()
	s.m[id] = pc
	s.mu.Unlock()
	return pc
}

func (t *pendingTable) take(id uint32) *pendingCall {
	s := &t.shards[id%pendingShards]
	s.mu.Lock()
	pc := s.m[id]
	delete(s.m, id)
	s.mu.Unlock()
	return pc
}

func (t *pendingTable) resolve(pkt protocol.Packet, payload protocol.RawValue, frame *[]byte) {
	if pc := t.take(pkt.ID); pc != nil {
		pc.ch <- response{pkt: pkt, payload: payload, frame: frame}
	}
}

func (t *pendingTable) failAll(err error) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for id, pc := range s.m {
			pc.ch <- response{err: err}
			delete(s.m, id)
		}
		s.mu.Unlock()
	}
}

// request sends a request packet and waits for its response until ctx ends.
func (c *conn) request(ctx context.Context, pkt *protocol.Packet) (response, error) {
	return c.requestTimeout(ctx, pkt, 0)
}

var timerPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}}

// requestTimeout is request with a timeout of its own when timeout > 0
// (a pooled timer, cheaper than a context per call).
func (c *conn) requestTimeout(ctx context.Context, pkt *protocol.Packet, timeout time.Duration) (response, error) {
	w := getBuf()
	var err error
	if w.b, err = protocol.AppendPacket(w.b, pkt); err != nil {
		putBuf(w)
		return response{}, asWireError(err)
	}
	return c.requestEncoded(ctx, pkt.ID, pkt.Type, w, timeout)
}

// requestEncoded sends the encoded request w with the id and type given, and waits for its answer as
// requestTimeout does.
func (c *conn) requestEncoded(ctx context.Context, id uint32, typ protocol.Type, w *wbuf, timeout time.Duration) (response, error) {
	pc := c.pending.add(id, timeout)
	var expired <-chan time.Time
	if timeout > 0 && pc.due == 0 {
		t := timerPool.Get().(*time.Timer)
		t.Reset(timeout)
		defer func() { t.Stop(); timerPool.Put(t) }()
		expired = t.C
	}
	if err := c.sendEncoded(w); err != nil {
		c.pending.take(id)
		return response{}, asWireError(err)
	}
	var (
		r   response
		err error
	)
	if expired == nil && ctx.Done() == nil {
		r = <-pc.ch // a plain receive: cheaper than a select
	} else {
		select {
		case r = <-pc.ch:
		case <-ctx.Done():
			err = ctxError(ctx)
		case <-expired:
			err = NewError(CodeDeadlineExceeded, fmt.Errorf("no answer within %v", timeout))
		}
	}
	switch {
	case err == nil && r.expired: // the sweeper took the call
		err = r.err
	case err == nil:
		c.pending.put(pc)
		return r, r.err
	}
	c.pending.take(id)
	if typ == protocol.TypeCall && c.ext.Load() {
		_ = c.send(&protocol.Packet{ID: id, Type: protocol.TypeCall, Impulse: true, Error: true})
	}
	return response{}, err
}

// asWireError keeps a coded error and makes others unavailable (they come
// from a connection that is gone) or invalid_argument (encoding failures).
func asWireError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, net.ErrClosed) {
		return errConnLost
	}
	return NewError(CodeInvalidArgument, fmt.Errorf("cannot encode the request: %w", err))
}

// ctxError turns a finished context into a coded error.
func ctxError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return NewError(CodeDeadlineExceeded, context.DeadlineExceeded)
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return asError(cause)
	}
	return NewError(CodeCanceled, context.Canceled)
}
