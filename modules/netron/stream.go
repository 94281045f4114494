package netron

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// ---- serving side ----

// sendStream is a stream this side produces for the peer.
type sendStream struct {
	id     uint32
	credit session.Credit // items (and bytes) the reader takes before it grants more
	cancel context.CancelCauseFunc
	out    session.Appender // where its items are appended (the producer's)
}

// acquire waits for one credit, until ctx ends or the reader stays idle.
func (s *sendStream) acquire(ctx context.Context, idle time.Duration) error {
	err := s.credit.Acquire(ctx, idle)
	if errors.Is(err, session.ErrReaderIdle) {
		return Errorf(CodeDeadlineExceeded, "stream reader idle for %v", idle)
	}
	return err
}

// abandon runs a stream that can no longer be sent to its first item and
// stops it there. Its iterator is what ends the call for the interceptors
// that wrap it (a call slot they hold, a count, a span), so every iterator
// a handler returns is ranged over once (see [StreamingHandlerFunc]).
func abandon(seq iter.Seq2[any, error], log *slog.Logger, call *Call) {
	defer func() {
		if r := recover(); r != nil {
			logStreamPanic(log, call, r)
		}
	}()
	seq(func(any, error) bool { return false })
}

// logStreamPanic logs the panic r of a stream's iterator, with its stack.
func logStreamPanic(log *slog.Logger, call *Call, r any) {
	log.Error("stream panicked", "service", call.Service, "method", call.Method,
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
}

// serveStream answers a stream call with a StreamReference, then sends the
// items (NETRON-WIRE.md §8.1): the response always goes first.
func (c *conn) serveStream(ctx context.Context, pkt protocol.Packet, call *Call) {
	n := c.p.n
	// The method runs under the stream's context, so that a cancel from
	// the reader reaches an iterator waiting between items.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &sendStream{id: nextStreamID(), cancel: cancel}
	s.credit.Init(int(c.window.Load()), c.windowBytes.Load())
	if !c.sending.Add(s.id, s) {
		c.replyError(pkt.ID, pkt.Type, Errorf(CodeResourceExhausted, "too many streams on this connection (limit %d)", n.cfg.MaxStreamsPerPeer))
		return
	}
	if c.ctx.Err() != nil { // ended before the stream was filed: close did not see it
		cancel(context.Cause(c.ctx))
	}
	defer func() {
		c.sending.Remove(s.id)
		s.out.Release()
		s.credit.Release()
	}()
	seq, err := n.streaming(ctx, call)
	if err != nil {
		c.replyError(pkt.ID, pkt.Type, err)
		return
	}
	ext := c.ext.Load()
	ref := &protocol.StreamReference{StreamID: s.id, Kind: protocol.StreamWritable, IsLive: true, PeerID: c.p.ID()}
	if err := c.send(&protocol.Packet{ID: pkt.ID, Type: pkt.Type, Data: ref}); err != nil {
		cancel(err)
		abandon(seq, c.p.log, call)
		return
	}
	// A stream counts against MaxStreamsPerPeer, not the requests served:
	// its reader's grants and cancels must be read.
	if call.srv != nil && !call.srv.slotFreed {
		call.srv.slotFreed = true
		c.served.Free()
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
	// stop ends the stream from this side, before the loop body returns
	// (so before the iterator's yield reports false): the stream's context
	// ends with err as its cause, which tells the interceptors wrapping
	// the iterator why it was stopped.
	stoppedHere := false
	stop := func(err error) error {
		if ctx.Err() == nil {
			stoppedHere = true
			cancel(err)
		}
		return err
	}
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				logStreamPanic(c.p.log, call, r)
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
					return stop(err)
				}
			}
			if err := c.appendItem(s, &protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStream, Impulse: true,
				Live: true, StreamID: s.id, StreamIndex: index, Data: item}); err != nil {
				if c.ctx.Err() != nil {
					return stop(err)
				}
				c.p.log.Error("could not encode a stream item", "service", call.Service, "method", call.Method, "error", err)
				if CodeOf(err) == CodeResourceExhausted { // over the frame limit: the reader may ask for less
					return stop(Errorf(CodeResourceExhausted, "stream item %d is too large to send: %s (netron.maxFrameSize)", index, asError(err).Message()))
				}
				return stop(NewError(CodeInternal, errors.New(internalMessage)))
			}
			index++
		}
		return nil
	}()
	switch {
	case c.ctx.Err() != nil:
		// The connection is gone; nobody to tell.
	case ctx.Err() != nil && !stoppedHere:
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
	if s, ok := c.sending.Get(pkt.StreamID); ok {
		s.credit.Grant(n)
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
			if s, ok := c.sending.Get(sc.StreamID); ok {
				s.cancel(NewError(CodeCanceled, errors.New("stream cancelled by the reader")))
			}
		}
		return
	}
	// A stream ended before its reader claims it keeps its end until the
	// claim or the idle timeout: what it keeps of the peer's text is
	// bounded (MaxStreamsPerPeer of them, else up to a frame each).
	if pkt.Type == protocol.TypeStreamError {
		c.inbound.End(sc.StreamID, NewError(CodeUnknown, errors.New(clipEnd(sc.Message))))
		return
	}
	c.inbound.End(sc.StreamID, c.closeReason(clipEnd(sc.Reason)))
}

// maxStreamEnd is the most bytes of a producer's STREAM_ERROR message or
// STREAM_CLOSE reason a stream keeps.
const maxStreamEnd = 4 << 10

// clipEnd cuts s to maxStreamEnd bytes, marked with "…"; the cut is a
// copy, which does not keep s.
func clipEnd(s string) string {
	if len(s) <= maxStreamEnd {
		return s
	}
	cut := maxStreamEnd
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// ---- calling side ----

// closeReason is the end of a stream the producer closed (STREAM_CLOSE)
// with reason. The original uses it both for a clean close and for a
// failed generator; the reason tells them apart only by text, so a
// non-empty reason other than a cancel is reported as an error. A Go
// producer's reason starts with the code name ("data_loss: ..."), which
// the error keeps; other reasons are unknown.
func (c *conn) closeReason(reason string) error {
	if reason == "" {
		return io.EOF
	}
	code := CodeUnknown
	if name, rest, ok := strings.Cut(reason, ": "); ok && c.ext.Load() {
		if cd, known := CodeOfName(name); known {
			code, reason = cd, rest
		}
	}
	return NewError(code, fmt.Errorf("stream closed by the producer: %s", reason))
}

// streamBatchCap is the initial room of a Stream's batch (which it swaps
// with the session's item buffer, of the same initial room).
const streamBatchCap = 64

// streamErrors are the errors of the streams a connection reads.
var streamErrors = session.StreamErrors{
	OutOfOrder: func(id uint32) error { return Errorf(CodeDataLoss, "stream %d: too many items out of order", id) },
	Missing: func(id, next, end uint32) error {
		return Errorf(CodeDataLoss, "stream %d ended after %d items without item %d: the items from %d on are lost", id, end, next, next)
	},
	Cancelled: NewError(CodeCanceled, errors.New("stream closed")),
	Idle: func(id uint32, idle time.Duration) error {
		return Errorf(CodeDeadlineExceeded, "stream %d: no item for %v", id, idle)
	},
	Context: ctxError,
	TooMuch: func(id uint32, max int64) error {
		return Errorf(CodeResourceExhausted, "stream %d: its items would take the unread items of this connection's streams past %d bytes (maxStreamBytesPerPeer)", id, max)
	},
}

// stopStream tells a Go producer to stop the stream id, which this side
// cancelled.
func (c *conn) stopStream(id uint32) {
	if c.ext.Load() {
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStreamClose,
			Data: protocol.Object{{Key: "streamId", Value: id}, {Key: "reason", Value: "cancelled"}}})
	}
}

// streamChunk files an item of a stream the peer produces; when the
// connection reads as many streams as it may, the producer is told so,
// once per stream (its later items are dropped, session.Inbounds.Chunk): a
// Go producer with the reader's cancel (no impulse bit), which stops it; a
// STREAM_CLOSE with the impulse bit would be, to it, the end of a stream
// it reads.
func (c *conn) streamChunk(pkt protocol.Packet, payload protocol.RawValue) {
	if !c.inbound.Chunk(pkt, payload, c.rd.Slab()) {
		_ = c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStreamClose, Impulse: !c.ext.Load(),
			Data: protocol.Object{{Key: "streamId", Value: pkt.StreamID}, {Key: "reason", Value: "stream-limit-reached"}}})
	}
}

// Stream reads the items of a server stream. It is not safe for
// concurrent use; Close may be called from any goroutine.
type Stream struct {
	peer   *Peer      // whose in-flight count the stream holds until its end
	src    ItemReader // a stream over a CallConn (http://), instead of rs and c
	rs     *session.Inbound
	c      *conn
	ctx    context.Context
	cancel context.CancelFunc
	limits protocol.Limits
	idle   time.Duration
	once   sync.Once
	closed atomic.Bool
	items  atomic.Int64 // returned by Next

	// End hooks (OnEnd), run once when the stream ends.
	endMu    sync.Mutex
	ended    bool
	endErr   error
	endHooks []func(error)
	// stopClose stops the Close that the end of ctx runs (closeOnCancel).
	stopClose func() bool

	batch  []protocol.RawValue // items taken from rs, read from next on
	next   int
	done   bool // the producer had finished when the batch was taken
	unread int  // items read and not yet granted back
	window int  // the window this side announced

	unreadBytes int64 // their bytes (session.ItemCost)
	windowBytes int64 // the byte window this side announced

	// srcOnce closes src once: at the stream's end or by Close (closeSrc).
	srcOnce sync.Once
}

// Next returns the next item, still encoded; io.EOF after the last one.
// An item that is not one well-formed value is an error that names the
// problem (the reader leaves items unchecked until they are read).
func (s *Stream) Next() (protocol.RawValue, error) {
	v, err := s.read()
	if err == nil && s.src == nil {
		if cerr := protocol.CheckValue(v, s.limits); cerr != nil {
			return nil, NewError(CodeInternal, fmt.Errorf("stream item: %w", cerr))
		}
	}
	return v, err
}

// read returns the next item as it came off the connection, counted in
// Items: not checked yet, for a caller that decodes it (Recv, All), which
// checks it as it decodes it.
func (s *Stream) read() (protocol.RawValue, error) {
	v, err := s.take()
	if err == nil {
		s.items.Add(1)
	}
	return v, err
}

// Items returns how many items have been read (Next, Recv, All). An
// interceptor's WrapStreamingClient reads it in [Stream.OnEnd]
// (modules/metrics counts the items streams received so).
func (s *Stream) Items() int64 { return s.items.Load() }

// take returns the next item.
func (s *Stream) take() (protocol.RawValue, error) {
	if s.src != nil {
		return s.nextFromCalls()
	}
	if s.next == len(s.batch) || s.closed.Load() {
		if ended, err := s.endedWith(); ended {
			return nil, err
		}
		clear(s.batch)
		b, done, err := s.rs.Take(s.ctx, s.idle, s.batch)
		s.batch, s.next, s.done = b, 0, done
		if err != nil {
			if isEOF(err) {
				s.end(nil)
			} else {
				// An idle or context error leaves the stream live: give
				// back its place in the connection's table and tell the
				// producer to stop (end stops the Close of ctx's end).
				s.rs.Cancel()
				s.end(err)
			}
			return nil, err
		}
	}
	v := s.batch[s.next]
	s.batch[s.next] = nil
	s.next++
	// Credit goes back as items are read, not as they are taken, so a
	// paused reader still holds the producer to the window: once half of
	// it, in items or in bytes, has been read.
	s.unread++
	s.unreadBytes += session.ItemCost(v)
	if !s.done && (s.unread >= max(1, s.window/2) || s.unreadBytes >= s.windowBytes/2) && s.c.ext.Load() {
		_ = s.c.send(&protocol.Packet{ID: nextPacketID(), Type: protocol.TypeStream, StreamID: s.rs.ID(), Data: s.unread})
		s.unread, s.unreadBytes = 0, 0
	}
	return v, nil
}

// Recv decodes the next item into v (a pointer); io.EOF after the last one.
func (s *Stream) Recv(v any) error {
	raw, err := s.read()
	if err != nil {
		return err
	}
	if err := s.unmarshal(raw, v); err != nil {
		return NewError(CodeInternal, fmt.Errorf("stream item: %w", err))
	}
	return nil
}

// unmarshal decodes an item Next returned into v. An item read from a
// connection was handed over with its frame (the reader gives each stream
// item one of its own, or a slab's piece too short to hold a binary value
// that would be sliced from it), so its large binary values are taken
// from it; an ItemReader's is valid until the next item only, so copied.
func (s *Stream) unmarshal(raw protocol.RawValue, v any) error {
	if s.src == nil {
		return protocol.UnmarshalOwned(raw, v, s.limits)
	}
	return protocol.UnmarshalLimits(raw, v, s.limits)
}

// Close stops reading: the producer of a Go peer is told to stop.
func (s *Stream) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		if s.src != nil {
			s.closeSrc()
		} else {
			s.rs.Cancel()
		}
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

// endedWith reports whether the stream has ended, and with what a read
// after its end fails: io.EOF after the last item, else the error it
// ended with. (The end releases the stream's context, which a read would
// otherwise report as the reason.)
func (s *Stream) endedWith() (bool, error) {
	s.endMu.Lock()
	defer s.endMu.Unlock()
	if !s.ended {
		return false, nil
	}
	if s.endErr == nil {
		return true, io.EOF
	}
	return true, s.endErr
}

// closeOnCancel makes the end of ctx, the stream's, close the stream.
func (s *Stream) closeOnCancel(ctx context.Context) {
	s.endMu.Lock() // the Close may run at once, and end reads stopClose
	s.stopClose = context.AfterFunc(ctx, func() { s.Close() })
	s.endMu.Unlock()
}

// end runs the end hooks, the first time only, and releases the stream's
// context, which the caller's context holds until it ends (a stream read
// to its end need not be closed).
func (s *Stream) end(err error) {
	s.endMu.Lock()
	if s.ended {
		s.endMu.Unlock()
		return
	}
	s.ended, s.endErr = true, err
	if s.peer != nil {
		s.peer.inflight.Add(-1)
	}
	hooks := s.endHooks
	s.endHooks = nil
	stop := s.stopClose
	s.endMu.Unlock()
	for _, f := range hooks {
		f(err)
	}
	// Once the Close it would run is stopped, ending the context only
	// releases it: what was read stays readable (io.EOF stays io.EOF).
	if stop != nil && stop() {
		s.cancel()
	}
}

// All returns the items as an iterator of T; breaking out of the loop
// closes the stream. The iteration ends after the last item or at the
// first error, which it yields.
func All[T any](s *Stream) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		defer s.Close()
		var slot *T // where the items are decoded, made once
		for {
			raw, err := s.read()
			var v T
			if err == nil {
				if v, err = decodeItem(s, raw, &slot); err != nil {
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

// decodeItem decodes an item of s (Stream.unmarshal) into *slot, a T made
// on the stream's first item and zeroed before each, so that an item does
// not cost the allocation of its target.
func decodeItem[T any](s *Stream, raw protocol.RawValue, slot **T) (T, error) {
	if *slot == nil {
		*slot = new(T)
	} else {
		var zero T
		**slot = zero // absent fields must not keep the last item's values
	}
	err := s.unmarshal(raw, *slot)
	return **slot, err
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
