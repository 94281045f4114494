package netron

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron/internal/session"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// response is the answer to a call (session.Response).
type response = session.Response

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
	w := session.GetBuf()
	var err error
	if w.B, err = protocol.AppendPacket(w.B, pkt); err != nil {
		session.PutBuf(w)
		return response{}, asWireError(err)
	}
	return c.requestEncoded(ctx, pkt.ID, pkt.Type, w, timeout)
}

// requestEncoded sends the encoded request w with the id and type given, and waits for its answer as
// requestTimeout does.
func (c *conn) requestEncoded(ctx context.Context, id uint32, typ protocol.Type, w *session.Buf, timeout time.Duration) (response, error) {
	pc := c.pending.Add(id, timeout)
	var expired <-chan time.Time
	if timeout > 0 && !pc.Swept() {
		t := timerPool.Get().(*time.Timer)
		t.Reset(timeout)
		defer func() { t.Stop(); timerPool.Put(t) }()
		expired = t.C
	}
	if err := c.sendEncoded(w); err != nil {
		c.pending.Take(id)
		return response{}, asWireError(err)
	}
	var (
		r   response
		err error
	)
	if expired == nil && ctx.Done() == nil {
		r = <-pc.C // a plain receive: cheaper than a select
	} else {
		select {
		case r = <-pc.C:
		case <-ctx.Done():
			err = ctxError(ctx)
		case <-expired:
			err = NewError(CodeDeadlineExceeded, fmt.Errorf("no answer within %v", timeout))
		}
	}
	switch {
	case err == nil && r.Expired: // the sweeper took the call
		err = r.Err
	case err == nil:
		c.pending.Done(pc)
		return r, r.Err
	}
	c.pending.Take(id)
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
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		switch {
		case cause == nil || cause == context.DeadlineExceeded:
			return NewError(CodeDeadlineExceeded, context.DeadlineExceeded)
		case errors.Is(cause, context.DeadlineExceeded):
			return NewError(CodeDeadlineExceeded, cause)
		}
		// context.WithTimeoutCause: the caller's reason, kept.
		return NewError(CodeDeadlineExceeded, fmt.Errorf("%w (%w)", context.DeadlineExceeded, cause))
	}
	switch {
	case cause == nil || cause == context.Canceled:
		return NewError(CodeCanceled, context.Canceled)
	case errors.Is(cause, context.Canceled):
		return NewError(CodeCanceled, cause) // a reason wrapping Canceled, kept
	}
	return asError(cause)
}
