package netron

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// ---- serving side ----

// sendStream is a stream this side produces for the peer.
type sendStream struct {
	id     uint32
	credit atomic.Int64  // items the reader takes before it grants more
	wake   chan struct{} // a grant arrived (buffered: no wake-up is lost)
	cancel context.CancelCauseFunc
	out    session.Appender // where its items are appended (the producer's)
}

func (s *sendStream) grant(n int) {
	s.credit.Add(int64(n))
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take takes one credit if there is one.
func (s *sendStream) take() bool {
	for {
		c := s.credit.Load()
		if c <= 0 {
			return false
		}
		if s.credit.CompareAndSwap(c, c-1) {
			return true
		}
	}
}

// acquire waits for one credit, until ctx ends or idle passes.
func (s *sendStream) acquire(ctx context.Context, idle time.Duration) error {
	var timer *time.Timer
	for {
		if s.take() {
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(idle)
			defer timer.Stop()
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timer.C:
			return Errorf(CodeDeadlineExceeded, "stream reader idle for %v", idle)
		}
	}
}

// serveStream answers a stream call with a StreamReference, then sends the
// items (NETRON-WIRE.md §8.1): the response always goes first.
func (c *conn) serveStream(ctx context.Context, pkt protocol.Packet, call *Call) {
	n := c.p.n
	c.smu.Lock()
	full := len(c.sending) >= n.cfg.MaxStreamsPerPeer
	c.smu.Unlock()
	if full {
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeResourceExhausted, "too many streams on this connection (limit %d)", n.cfg.MaxStreamsPerPeer))
		return
	}
	// The method runs under the stream's context, so that a cancel from
	// the reader reaches an iterator waiting between items.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	seq, err := n.streaming(ctx, call)
	if err != nil {
		c.replyError(pkt.ID, pkt.Type, err)
		return
	}
	s := &sendStream{id: nextStreamID(), wake: make(chan struct{}, 1), cancel: cancel}
	s.credit.Store(int64(c.window.Load()))
	ext := c.ext.Load()
	c.smu.Lock()
	c.sending[s.id] = s
	c.smu.Unlock()
	defer func() {
		c.smu.Lock()
		delete(c.sending, s.id)
		c.smu.Unlock()
		s.out.Release()
	}()
	ref := &protocol.StreamReference{StreamID: s.id, Kind: protocol.StreamWritable, IsLive: true, PeerID: c.p.ID()}
	if err := c.send(&protocol.Packet{ID: pkt.ID, Type: pkt.Type, Data: ref}); err != nil {
		return
	}
	// A stream counts against MaxStreamsPerPeer, not the requests served:
	// its reader's grants and cancels must be read.
	if call.srv != nil && !call.srv.slotFreed {
		call.srv.slotFreed = true
		c.freeSlot()
	}
	index := uint32(0)
	fail := func(err error) {
		reason := err.Error()
		if CodeOf(err) == CodeInternal {
			reason = asError(err).Message()
		}
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStreamClose, Impulse: true,
			Data: protocol.Object{{Key: "streamId", Value: s.id}, {Key: "reason", Value: reason}}})
	}
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				c.p.log.Error("stream panicked", "service", call.Service, "method", call.Method,
					"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = NewError(CodeInternal, errors.New(internalMessage))
			}
		}()
		for item, ierr := range seq {
			if ierr != nil {
				return ierr
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if ext {
				if err := s.acquire(ctx, n.cfg.StreamIdleTimeout); err != nil {
					return err
				}
			}
			if err := c.appendItem(s, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStream, Impulse: true,
				Live: true, StreamID: s.id, StreamIndex: index, Data: item}); err != nil {
				if c.ctx.Err() != nil {
					return err
				}
				c.p.log.Error("could not encode a stream item", "service", call.Service, "method", call.Method, "error", err)
				return NewError(CodeInternal, errors.New(internalMessage))
			}
			index++
		}
		return nil
	}()
	switch {
	case c.ctx.Err() != nil:
		// The connection is gone; nobody to tell.
	case ctx.Err() != nil:
		// Cancelled by the reader (or past its deadline): it needs no
		// answer, and an end-of-stream now would reach a reader that has
		// already forgotten the stream.
	case err != nil:
		fail(err)
	default:
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStream, Impulse: true,
			Live: true, EOS: true, StreamID: s.id, StreamIndex: index, Data: nil})
	}
}

// streamCredit handles a credit grant from the reader of one of our streams.
func (c *conn) streamCredit(pkt protocol.Packet, payload protocol.RawValue) {
	var n int
	if protocol.UnmarshalLimits(payload, &n, c.p.n.limits) != nil || n <= 0 {
		return
	}
	c.smu.Lock()
	s := c.sending[pkt.StreamID]
	c.smu.Unlock()
	if s != nil {
		s.grant(n)
	}
}

type streamControl struct {
	StreamID uint32 `json:"streamId"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
}

// streamControl handles STREAM_CLOSE and STREAM_ERROR: from the producer
// (impulse 1) they end a stream we read; from the reader (impulse 0, Go
// peers) STREAM_CLOSE cancels a stream we produce.
func (c *conn) streamControl(pkt protocol.Packet, payload protocol.RawValue) {
	var sc streamControl
	if err := protocol.UnmarshalLimits(payload, &sc, c.p.n.limits); err != nil {
		c.p.log.Warn("dropped a malformed stream control packet", "type", pkt.Type, "error", err)
		return
	}
	if !pkt.Impulse {
		if pkt.Type == protocol.TypeStreamClose && c.ext.Load() {
			c.smu.Lock()
			s := c.sending[sc.StreamID]
			c.smu.Unlock()
			if s != nil {
				s.cancel(NewError(CodeCanceled, errors.New("stream cancelled by the reader")))
			}
		}
		return
	}
	c.smu.Lock()
	rs := c.recving[sc.StreamID]
	c.smu.Unlock()
	if rs == nil {
		c.wasCancelled(sc.StreamID, true)
		return
	}
	rs.mu.Lock()
	if rs.claimed {
		c.forget(rs.id)
	}
	rs.mu.Unlock()
	if pkt.Type == protocol.TypeStreamError {
		rs.fail(NewError(CodeUnknown, errors.New(sc.Message)))
		return
	}
	rs.closeWith(sc.Reason)
}

// ---- calling side ----

// recvStream buffers the items of a stream the peer produces.
type recvStream struct {
	c     *conn
	id    uint32
	mu    sync.Mutex
	wake  chan struct{}
	items []protocol.RawValue
	next  uint32                       // index expected next
	early map[uint32]protocol.RawValue // arrived out of order
	done  bool
	err   error
	// claimed is set once a reader took the stream; until then a finished
	// stream stays in the connection's table so its reader can find it,
	// for at most the idle timeout (reaper).
	claimed bool
	reaper  *time.Timer
}

const maxEarly = 10000

// itemsCap is the initial room of a stream's item buffers (the reader's
// and the one it swaps with): grown from nothing, they cost ~100 bytes per
// item of a 100-item stream.
const itemsCap = 64

func newRecvStream(c *conn, id uint32) *recvStream {
	return &recvStream{c: c, id: id, wake: make(chan struct{}, 1), items: make([]protocol.RawValue, 0, itemsCap)}
}

func (rs *recvStream) notify() {
	select {
	case rs.wake <- struct{}{}:
	default:
	}
}

func (c *conn) forget(id uint32) {
	c.smu.Lock()
	delete(c.recving, id)
	c.smu.Unlock()
}

// claim hands the stream with id to its reader, creating it if no chunk
// has arrived yet.
func (c *conn) claim(id uint32) *recvStream {
	rs := c.recvStreamFor(id, true)
	if rs == nil {
		return nil
	}
	rs.mu.Lock()
	rs.claimed = true
	if rs.done {
		c.forget(id)
	}
	rs.mu.Unlock()
	rs.reaper.Stop()
	return rs
}

// recvStreamFor returns the stream with id, creating it when create is set
// (a chunk can arrive before its reader claims it).
func (c *conn) recvStreamFor(id uint32, create bool) *recvStream {
	c.smu.Lock()
	defer c.smu.Unlock()
	rs := c.recving[id]
	if rs == nil && create {
		if _, dead := c.cancelled[id]; dead {
			return nil
		}
		if len(c.recving) >= c.p.n.cfg.MaxStreamsPerPeer {
			return nil
		}
		rs = newRecvStream(c, id)
		c.recving[id] = rs
		// A stream nobody claims (its caller gave up, or it was never a
		// Go caller's) is dropped after the idle timeout.
		rs.reaper = time.AfterFunc(c.p.n.cfg.StreamIdleTimeout, func() {
			rs.mu.Lock()
			claimed := rs.claimed
			rs.mu.Unlock()
			if !claimed {
				rs.cancel()
			}
		})
	}
	return rs
}

// maxCancelled bounds the cancelled streams a connection remembers.
const maxCancelled = 1024

// markCancelled remembers that this side cancelled stream id; c.smu is held.
func (c *conn) markCancelled(id uint32) {
	if c.cancelled == nil {
		c.cancelled = map[uint32]struct{}{}
	}
	if len(c.cancelledQ) >= maxCancelled {
		delete(c.cancelled, c.cancelledQ[0])
		c.cancelledQ = c.cancelledQ[1:]
	}
	c.cancelled[id] = struct{}{}
	c.cancelledQ = append(c.cancelledQ, id)
}

// wasCancelled reports whether this side cancelled stream id; last
// forgets it (the producer has ended the stream).
func (c *conn) wasCancelled(id uint32, last bool) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	_, dead := c.cancelled[id]
	if dead && last {
		delete(c.cancelled, id)
		c.cancelledQ = slices.DeleteFunc(c.cancelledQ, func(x uint32) bool { return x == id })
	}
	return dead
}

func (c *conn) streamChunk(pkt protocol.Packet, payload protocol.RawValue) {
	if pkt.StreamID == 0 {
		return
	}
	// Items of one stream tend to arrive together: the reader keeps the
	// last stream it found, and skips the table for the next item of it.
	// (A stream that ended meanwhile drops the item: it is done.)
	rs := c.lastRecv
	if rs == nil || rs.id != pkt.StreamID {
		rs = c.recvStreamFor(pkt.StreamID, true)
		c.lastRecv = rs
	}
	if rs == nil {
		if c.wasCancelled(pkt.StreamID, pkt.EOS) {
			return
		}
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStreamClose, Impulse: true,
			Data: protocol.Object{{Key: "streamId", Value: pkt.StreamID}, {Key: "reason", Value: "stream-limit-reached"}}})
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.done {
		return
	}
	isNil := len(payload) == 1 && payload[0] == 0xc0
	switch {
	case pkt.StreamIndex == rs.next:
		if !(pkt.EOS && isNil) {
			rs.items = append(rs.items, payload)
		}
		rs.next++
		for {
			v, ok := rs.early[rs.next]
			if !ok {
				break
			}
			delete(rs.early, rs.next)
			rs.items = append(rs.items, v)
			rs.next++
		}
	case pkt.StreamIndex > rs.next && !pkt.EOS:
		if rs.early == nil {
			rs.early = map[uint32]protocol.RawValue{}
		}
		if len(rs.early) >= maxEarly {
			rs.done, rs.err = true, Errorf(CodeDataLoss, "stream %d: too many items out of order", rs.id)
			rs.notify()
			return
		}
		rs.early[pkt.StreamIndex] = payload
	}
	if pkt.EOS {
		rs.done = true
		if rs.claimed {
			c.forget(rs.id)
		}
	}
	rs.notify()
}

func (rs *recvStream) fail(err error) {
	rs.mu.Lock()
	if !rs.done {
		rs.done, rs.err = true, err
	}
	rs.mu.Unlock()
	rs.notify()
}

// closeWith ends the stream after a STREAM_CLOSE from the producer. The
// original uses it both for a clean close and for a failed generator; the
// reason tells them apart only by text, so a non-empty reason other than a
// cancel is reported as an error. A Go producer's reason starts with the
// code name ("data_loss: ..."), which the error keeps; other reasons are
// unknown.
func (rs *recvStream) closeWith(reason string) {
	if reason == "" {
		rs.fail(io.EOF)
		return
	}
	code := CodeUnknown
	if name, rest, ok := strings.Cut(reason, ": "); ok && rs.c.ext.Load() {
		if c, known := CodeOfName(name); known {
			code, reason = c, rest
		}
	}
	rs.fail(NewError(code, fmt.Errorf("stream closed by the producer: %s", reason)))
}

// take moves every item that has arrived to the reader's dst (reused,
// empty), waiting until one arrives, the stream ends, ctx ends or the
// stream has been idle too long. Taking them all at once costs the reader
// one lock per batch instead of one per item. done reports whether the
// producer has finished (no more grants are needed).
func (rs *recvStream) take(ctx context.Context, idle time.Duration, dst []protocol.RawValue) (items []protocol.RawValue, done bool, err error) {
	// The idle clock starts when the reader finds nothing to read (not at
	// each arrival, which would cost a clock read per item).
	var expired <-chan time.Time
	for {
		rs.mu.Lock()
		if len(rs.items) > 0 {
			items, rs.items = rs.items, dst[:0]
			done = rs.done
			rs.mu.Unlock()
			return items, done, nil
		}
		if rs.done {
			err := rs.err
			rs.mu.Unlock()
			if err == nil {
				err = io.EOF
			}
			return dst[:0], true, err
		}
		rs.mu.Unlock()
		if expired == nil {
			timer := time.NewTimer(idle)
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case <-rs.wake:
		case <-ctx.Done():
			return dst[:0], false, ctxError(ctx)
		case <-expired:
			return dst[:0], false, Errorf(CodeDeadlineExceeded, "stream %d: no item for %v", rs.id, idle)
		}
	}
}

// cancel stops the producer (Go peers) and forgets the stream.
func (rs *recvStream) cancel() {
	rs.mu.Lock()
	wasDone := rs.done
	rs.done = true
	if rs.err == nil {
		rs.err = NewError(CodeCanceled, errors.New("stream closed"))
	}
	rs.items = nil
	rs.mu.Unlock()
	c := rs.c
	c.smu.Lock()
	delete(c.recving, rs.id)
	if !wasDone {
		c.markCancelled(rs.id)
	}
	c.smu.Unlock()
	if !wasDone && c.ext.Load() {
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStreamClose,
			Data: protocol.Object{{Key: "streamId", Value: rs.id}, {Key: "reason", Value: "cancelled"}}})
	}
	rs.notify()
}

// Stream reads the items of a server stream. It is not safe for
// concurrent use; Close may be called from any goroutine.
type Stream struct {
	rs     *recvStream
	ctx    context.Context
	cancel context.CancelFunc
	limits protocol.Limits
	idle   time.Duration
	once   sync.Once
	closed atomic.Bool

	// End hooks (OnEnd), run once when the stream ends.
	endMu    sync.Mutex
	ended    bool
	endErr   error
	endHooks []func(error)

	batch  []protocol.RawValue // items taken from rs, read from next on
	next   int
	done   bool // the producer had finished when the batch was taken
	unread int  // items read and not yet granted back
	window int  // the window this side announced
}

// Next returns the next item, still encoded; io.EOF after the last one.
func (s *Stream) Next() (protocol.RawValue, error) {
	if s.next == len(s.batch) || s.closed.Load() {
		clear(s.batch)
		b, done, err := s.rs.take(s.ctx, s.idle, s.batch)
		s.batch, s.next, s.done = b, 0, done
		if err != nil {
			if isEOF(err) {
				s.end(nil)
			} else {
				s.end(err)
			}
			return nil, err
		}
	}
	v := s.batch[s.next]
	s.batch[s.next] = nil
	s.next++
	// Credit goes back as items are read, not as they are taken, so a
	// paused reader still holds the producer to the window.
	s.unread++
	if !s.done && s.unread >= max(1, s.window/2) && s.rs.c.ext.Load() {
		_ = s.rs.c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStream, StreamID: s.rs.id, Data: s.unread})
		s.unread = 0
	}
	return v, nil
}

// Recv decodes the next item into v (a pointer); io.EOF after the last one.
func (s *Stream) Recv(v any) error {
	raw, err := s.Next()
	if err != nil {
		return err
	}
	if err := protocol.UnmarshalLimits(raw, v, s.limits); err != nil {
		return NewError(CodeInternal, fmt.Errorf("stream item: %w", err))
	}
	return nil
}

// Close stops reading: the producer of a Go peer is told to stop.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		s.rs.cancel()
		s.cancel()
		s.end(errStreamClosedByReader)
	})
	return nil
}

// errStreamClosedByReader is how a stream closed before its end ended.
var errStreamClosedByReader = NewError(CodeCanceled, errors.New("stream closed by the reader before its end"))

// OnEnd registers f to run once when the stream ends, on the calling side:
// with nil after the last item was read, with the error Next returned, or
// with a canceled error when the reader closed the stream before its end.
// It is how an interceptor's WrapStreamingClient learns that a stream it
// saw open has ended (a metrics or tracing interceptor ends its timer or
// span there). Registered after the end, f runs at once. f runs on the
// goroutine that ended the stream and must not block.
func (s *Stream) OnEnd(f func(err error)) {
	s.endMu.Lock()
	if s.ended {
		err := s.endErr
		s.endMu.Unlock()
		f(err)
		return
	}
	s.endHooks = append(s.endHooks, f)
	s.endMu.Unlock()
}

// end runs the end hooks, the first time only.
func (s *Stream) end(err error) {
	s.endMu.Lock()
	if s.ended {
		s.endMu.Unlock()
		return
	}
	s.ended, s.endErr = true, err
	hooks := s.endHooks
	s.endHooks = nil
	s.endMu.Unlock()
	for _, f := range hooks {
		f(err)
	}
}

// All returns the items as an iterator of T; breaking out of the loop
// closes the stream. The iteration ends after the last item or at the
// first error, which it yields.
func All[T any](s *Stream) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		defer s.Close()
		for {
			raw, err := s.Next()
			var v T
			if err == nil {
				if v, err = decodeAs[T](raw, s.limits); err != nil {
					err = NewError(CodeInternal, fmt.Errorf("stream item: %w", err))
				}
			}
			if errors.Is(err, io.EOF) {
				return
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
