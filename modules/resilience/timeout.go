package resilience

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Timeout returns an interceptor that gives each call at most d: its
// context gets a deadline d away unless the caller's is sooner, and Go
// servers are told it (they cancel the method when it passes). A call
// that runs out of it fails with deadline_exceeded, naming the service,
// method and d, and the [Bulkhead] below in which it was waiting for a
// place, if it was. For a stream, d bounds the opening only: the stream
// then lives as long as the caller's context. Outside a [Retry] it bounds
// the whole call, the retries included; inside one, each attempt. A d of
// 0 or less leaves calls as they are.
func Timeout(d time.Duration) netron.Interceptor { return timeout(d) }

type timeout time.Duration

func (timeout) BorrowsCalls() {}

// sooner reports whether ctx already ends within d.
func (t timeout) sooner(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return t <= 0 || ok && time.Until(dl) <= time.Duration(t)
}

// err is the failure of call, which ran out of t with the failure inner:
// it names the bulkhead in which the call was waiting (see waitEnded).
func (t timeout) err(call *netron.Call, inner error) error {
	var w *waitEnded
	if errors.As(inner, &w) {
		return netron.NewError(netron.CodeDeadlineExceeded, fmt.Errorf("%s.%s: no answer within its timeout of %v: it was waiting for a place in bulkhead %q (%d calls in flight)",
			call.Service, call.Method, time.Duration(t), w.bulk.name, w.bulk.max))
	}
	return netron.NewError(netron.CodeDeadlineExceeded, fmt.Errorf("%s.%s: no answer within its timeout of %v", call.Service, call.Method, time.Duration(t)))
}

func (t timeout) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() || t.sooner(ctx) {
			return next(ctx, call)
		}
		tctx, cancel := context.WithTimeout(ctx, time.Duration(t))
		defer cancel()
		res, err := next(tctx, call)
		if err != nil && ctx.Err() == nil && t.ranOut(tctx, err) {
			return nil, t.err(call, err)
		}
		return res, err
	}
}

// ranOut reports whether a call under tctx failed for its deadline. A Go
// server is told the deadline in whole milliseconds, rounded down, and
// may answer deadline_exceeded a little before it passes here.
func (t timeout) ranOut(tctx context.Context, err error) bool {
	if errors.Is(tctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, _ := tctx.Deadline()
	return netron.CodeOf(err) == netron.CodeDeadlineExceeded && time.Until(dl) < 10*time.Millisecond
}

func (timeout) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// errOpenTimedOut cancels the opening of a stream that took too long. It
// matches context.DeadlineExceeded, so that a [CircuitBreaker] below
// counts it as the remote's failure, not as the caller's cancellation.
var errOpenTimedOut = fmt.Errorf("the stream did not open in time: %w", context.DeadlineExceeded)

func (t timeout) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if t.sooner(ctx) {
			return next(ctx, call)
		}
		sctx, cancel := context.WithCancelCause(ctx)
		timer := time.AfterFunc(time.Duration(t), func() { cancel(errOpenTimedOut) })
		opened := false
		defer func() {
			if !opened { // it failed, timed out or panicked
				timer.Stop()
				cancel(nil)
			}
		}()
		s, err := next(sctx, call)
		if !timer.Stop() { // the timer fired: the stream, if any, is cancelled
			if s != nil {
				_ = s.Close()
			}
			if ctx.Err() == nil {
				return nil, t.err(call, err)
			}
			if err == nil {
				err = netron.NewError(netron.CodeOf(ctx.Err()), ctx.Err())
			}
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		opened = true
		s.OnEnd(func(error) { cancel(nil) })
		return s, nil
	}
}
