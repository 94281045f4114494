package http

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type ctxKey struct{}

// TestCallContextEnds: a call's context ends with each of its sources,
// whether someone waits on Done (timer and hooks armed) or only polls Err,
// and what hangs on it (a derived context, an AfterFunc, context.Cause)
// sees the same error.
func TestCallContextEnds(t *testing.T) {
	sources := []struct {
		name    string
		timeout time.Duration
		end     func(parent context.CancelFunc, h *Handler, cancel func())
		want    error
	}{
		{"request", 0, func(parent context.CancelFunc, _ *Handler, _ func()) { parent() }, context.Canceled},
		{"timeout", 20 * time.Millisecond, func(context.CancelFunc, *Handler, func()) {}, context.DeadlineExceeded},
		{"shutdown", 0, func(_ context.CancelFunc, h *Handler, _ func()) { h.stop() }, context.Canceled},
		{"call", 0, func(_ context.CancelFunc, _ *Handler, cancel func()) { cancel() }, context.Canceled},
	}
	for _, src := range sources {
		for _, watch := range []bool{true, false} {
			name := src.name + "/polled"
			if watch {
				name = src.name + "/watched"
			}
			t.Run(name, func(t *testing.T) {
				h := &Handler{}
				h.stopped, h.stop = context.WithCancel(context.Background())
				defer h.stop()
				parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
				defer cancelParent()
				r, _ := http.NewRequestWithContext(parent, http.MethodPost, "http://x/netron/invoke", nil)
				ctx, cancel := h.callContext(r, src.timeout)
				defer cancel()
				if ctx.Value(ctxKey{}) != "v" {
					t.Fatal("the request context's value is lost")
				}
				if err := ctx.Err(); err != nil {
					t.Fatalf("Err before the end: %v", err)
				}
				ran := make(chan struct{})
				var child context.Context
				if watch {
					_ = ctx.Done()
					var stop context.CancelFunc
					child, stop = context.WithCancel(ctx)
					defer stop()
					context.AfterFunc(ctx, func() { close(ran) })
				}
				src.end(cancelParent, h, cancel)
				if watch {
					select {
					case <-ctx.Done():
					case <-time.After(5 * time.Second):
						t.Fatal("Done not closed")
					}
					select {
					case <-child.Done():
					case <-time.After(5 * time.Second):
						t.Fatal("a derived context did not end")
					}
					if err := context.Cause(child); !errors.Is(err, src.want) {
						t.Errorf("derived context's cause %v, want %v", err, src.want)
					}
					select {
					case <-ran:
					case <-time.After(5 * time.Second):
						t.Fatal("AfterFunc did not run")
					}
				} else {
					deadline := time.Now().Add(5 * time.Second)
					for ctx.Err() == nil && time.Now().Before(deadline) {
						time.Sleep(time.Millisecond)
					}
					select {
					case <-ctx.Done(): // made after the end: closed at once
					default:
						t.Fatal("Done made after the end is open")
					}
				}
				if err := ctx.Err(); !errors.Is(err, src.want) {
					t.Errorf("Err %v, want %v", err, src.want)
				}
				if err := context.Cause(ctx); !errors.Is(err, src.want) {
					t.Errorf("Cause %v, want %v", err, src.want)
				}
				// Ended once: later sources change nothing.
				cancelParent()
				h.stop()
				cancel()
				if err := ctx.Err(); !errors.Is(err, src.want) {
					t.Errorf("Err after every source ended %v, want %v", err, src.want)
				}
			})
		}
	}
}

// TestCallContextCause: context.Cause of a call context reports its own
// end, not the request's when that ended later with a cause of its own (a
// probe finds the key by which Cause looks for a standard context; this
// fails if a Go release changes that).
func TestCallContextCause(t *testing.T) {
	if causeKey == nil {
		t.Fatal("context.Cause asked no value of the probe")
	}
	h := &Handler{}
	h.stopped, h.stop = context.WithCancel(context.Background())
	defer h.stop()
	parent, cancelParent := context.WithCancelCause(context.Background())
	defer cancelParent(nil)
	r, _ := http.NewRequestWithContext(parent, http.MethodPost, "http://x/", nil)
	ctx, cancel := h.callContext(r, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if err := ctx.Err(); err != context.DeadlineExceeded {
		t.Fatalf("Err %v, want the call's deadline", err)
	}
	cancelParent(errors.New("the client went away"))
	if err := context.Cause(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Cause %v, want the call's deadline", err)
	}
	// Ended by the request's context: the request's cause.
	gone := errors.New("the client went away")
	parent2, cancel2 := context.WithCancelCause(context.Background())
	r2, _ := http.NewRequestWithContext(parent2, http.MethodPost, "http://x/", nil)
	ctx2, end2 := h.callContext(r2, time.Hour)
	defer end2()
	done := ctx2.Done()
	cancel2(gone)
	<-done
	if err := context.Cause(ctx2); err != gone {
		t.Fatalf("Cause %v, want the request's cause", err)
	}
}

// countingCtx counts the AfterFunc registrations still live on it. Its
// own Done channel keeps the context package from registering with the
// standard context underneath.
type countingCtx struct {
	context.Context
	done chan struct{}
	live atomic.Int32
}

func (c *countingCtx) Done() <-chan struct{} { return c.done }

func (c *countingCtx) AfterFunc(f func()) func() bool {
	c.live.Add(1)
	var once sync.Once
	return func() bool {
		stopped := false
		once.Do(func() { c.live.Add(-1); stopped = true })
		return stopped
	}
}

// TestCallContextArmsOnce: however a call's context is first watched
// (AfterFunc, then Done, or the other way), its registrations with the
// handler's context are gone when the call ends.
func TestCallContextArmsOnce(t *testing.T) {
	base, stop := context.WithCancel(context.Background())
	defer stop()
	stopped := &countingCtx{Context: base, done: make(chan struct{})}
	h := &Handler{stopped: stopped, stop: stop}
	r, _ := http.NewRequest(http.MethodPost, "http://x/", nil)
	for range 10 {
		ctx, cancel := h.callContext(r, time.Hour)
		ctx.(interface{ AfterFunc(func()) func() bool }).AfterFunc(func() {})
		_ = ctx.Done()
		cancel()
		ctx, cancel = h.callContext(r, time.Hour)
		_ = ctx.Done()
		ctx.(interface{ AfterFunc(func()) func() bool }).AfterFunc(func() {})
		cancel()
	}
	if n := stopped.live.Load(); n != 0 {
		t.Fatalf("%d registrations left on the handler's context", n)
	}
}

// TestCallContextDeadline: the earlier of the call's deadline and the
// request context's.
func TestCallContextDeadline(t *testing.T) {
	h := &Handler{}
	h.stopped, h.stop = context.WithCancel(context.Background())
	defer h.stop()
	soon := time.Now().Add(time.Minute)
	parent, cancelParent := context.WithDeadline(context.Background(), soon)
	defer cancelParent()
	for _, c := range []struct {
		parent  context.Context
		timeout time.Duration
		want    time.Time // zero: none
	}{
		{context.Background(), 0, time.Time{}},
		{parent, 0, soon},
		{parent, time.Hour, soon},
		{parent, time.Second, time.Now().Add(time.Second)},
		{context.Background(), time.Second, time.Now().Add(time.Second)},
	} {
		r, _ := http.NewRequestWithContext(c.parent, http.MethodPost, "http://x/", nil)
		ctx, cancel := h.callContext(r, c.timeout)
		d, ok := ctx.Deadline()
		cancel()
		if ok != !c.want.IsZero() || ok && (d.Before(c.want.Add(-100*time.Millisecond)) || d.After(c.want.Add(100*time.Millisecond))) {
			t.Errorf("timeout %v under %v: deadline %v %v, want %v", c.timeout, c.parent, d, ok, c.want)
		}
	}
}

// TestReadBodyReservesLittle: a request announcing a large body allocates
// no more than 64 KiB before its bytes arrive (a header alone must not
// make the server hold megabytes), though the budget counts it whole; a
// body of the announced length takes that much, and a byte for the read
// that sees its end.
func TestReadBodyReservesLittle(t *testing.T) {
	h := &Handler{cfg: defaultConfig()}
	h.cfg.maxBody = 32 << 20
	h.bodies.limit = 64 << 20
	r := httptest.NewRequest(http.MethodPost, "/netron/invoke", strings.NewReader(`{"id":1}`))
	r.ContentLength = 10 << 20
	body, held, _ := h.readBody(httptest.NewRecorder(), r)
	if cap(body) > 64<<10 || held != 10<<20 {
		t.Fatalf("allocated %d bytes and reserved %d for an announced %d", cap(body), held, r.ContentLength)
	}
	h.bodies.release(held)
	r = httptest.NewRequest(http.MethodPost, "/netron/invoke", strings.NewReader(`{"id":1}`))
	body, held, aerr := h.readBody(httptest.NewRecorder(), r)
	if aerr != nil || string(body) != `{"id":1}` || cap(body) != len(body)+1 || held != int64(len(body)) {
		t.Fatalf("body %q cap %d reserved %d, %v", body, cap(body), held, aerr)
	}
	h.bodies.release(held)
	if n := h.bodies.held.Load(); n != 0 {
		t.Fatalf("%d bytes still reserved", n)
	}
}
