package resilience

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go/bulkhead"

	"github.com/titanframework/titan/modules/netron"
)

// BulkheadConfig configures a [Bulkhead].
type BulkheadConfig struct {
	// Name names the bulkhead in the errors of the calls it refuses;
	// titan.Remote names it after the remote service or the method. ""
	// means "bulkhead".
	Name string
	// Max is how many calls may be in flight at once (a stream is in
	// flight until it ends). It must be 1 or more.
	Max int
	// MaxWait is how long a call waits for a place when all are taken
	// before it is refused: 0 refuses it at once.
	MaxWait time.Duration
}

// Check reports a value out of range, naming the field.
func (c BulkheadConfig) Check() error {
	var errs []error
	if c.Max < 1 {
		errs = append(errs, fmt.Errorf("Max %d: want 1 or more", c.Max))
	}
	if c.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("MaxWait %v: want 0 (refuse at once) or a positive duration", c.MaxWait))
	}
	return errors.Join(errs...)
}

// Bulkhead returns an interceptor that lets at most cfg.Max calls be in
// flight at once through it. The next one waits up to cfg.MaxWait for a
// place, then is refused with resource_exhausted, matching
// [ErrBulkheadFull], with a message naming the
// bulkhead, its size, the service and method ("bulkhead \"users@^1\" is
// full (4 calls in flight): users@^1.get not sent"). A Max below 1 is
// taken as 1 (see [BulkheadConfig.Check]). The bulkhead is failsafe-go's.
func Bulkhead(cfg BulkheadConfig) netron.Interceptor {
	h := &bulk{name: cfg.Name, max: max(cfg.Max, 1), wait: max(cfg.MaxWait, 0)}
	if h.name == "" {
		h.name = "bulkhead"
	}
	h.bh = bulkhead.New[any](uint(h.max))
	return h
}

type bulk struct {
	name string
	max  int
	wait time.Duration
	bh   bulkhead.Bulkhead[any]
}

func (*bulk) BorrowsCalls() {}

func (h *bulk) WrapUnary(next netron.UnaryFunc) netron.UnaryFunc {
	return func(ctx context.Context, call *netron.Call) (any, error) {
		if !call.IsClient() {
			return next(ctx, call)
		}
		if err := h.acquire(ctx, call); err != nil {
			return nil, err
		}
		defer h.bh.ReleasePermit()
		return next(ctx, call)
	}
}

func (*bulk) WrapStreamingHandler(next netron.StreamingHandlerFunc) netron.StreamingHandlerFunc {
	return next
}

// WrapStreamingClient keeps a place for a stream until it ends.
func (h *bulk) WrapStreamingClient(next netron.StreamingClientFunc) netron.StreamingClientFunc {
	return func(ctx context.Context, call *netron.Call) (*netron.Stream, error) {
		if err := h.acquire(ctx, call); err != nil {
			return nil, err
		}
		opened := false
		defer func() {
			if !opened { // it failed or panicked
				h.bh.ReleasePermit()
			}
		}()
		s, err := next(ctx, call)
		if err != nil {
			return nil, err
		}
		opened = true
		var once sync.Once
		s.OnEnd(func(error) { once.Do(h.bh.ReleasePermit) })
		return s, nil
	}
}

// acquire takes a place for call, waiting up to the bound.
func (h *bulk) acquire(ctx context.Context, call *netron.Call) error {
	if h.bh.TryAcquirePermit() {
		return nil
	}
	if h.wait > 0 {
		err := h.bh.AcquirePermitWithMaxWait(ctx, h.wait)
		if err == nil {
			return nil
		}
		if !errors.Is(err, bulkhead.ErrFull) {
			return netron.NewError(netron.CodeOf(err), &waitEnded{bulk: h, err: err,
				msg: fmt.Sprintf("%s.%s: %v while waiting for a place in bulkhead %q", call.Service, call.Method, err, h.name)})
		}
		return netron.NewError(netron.CodeResourceExhausted, &refusal{kind: ErrBulkheadFull,
			msg: fmt.Sprintf("bulkhead %q is full (%d calls in flight) and stayed full for %v: %s.%s not sent", h.name, h.max, h.wait, call.Service, call.Method)})
	}
	return netron.NewError(netron.CodeResourceExhausted, &refusal{kind: ErrBulkheadFull,
		msg: fmt.Sprintf("bulkhead %q is full (%d calls in flight): %s.%s not sent", h.name, h.max, call.Service, call.Method)})
}

// waitEnded is the failure of a call whose context ended while it waited
// for a place in bulk, not sent: a [Timeout] above that ended it names the
// bulkhead, rather than say only that the remote did not answer in time.
type waitEnded struct {
	bulk *bulk
	msg  string
	err  error // the context's
}

func (w *waitEnded) Error() string { return w.msg }

func (w *waitEnded) Unwrap() error { return w.err }
