package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Credit is the window of a stream this side produces: the items its
// reader lets it send before it grants more (a Go reader grants as it
// reads; the producer waits in Acquire when the window is spent).
type Credit struct {
	n    atomic.Int64
	wake chan struct{} // a grant arrived (buffered: no wake-up is lost)
}

// ErrReaderIdle is Acquire's error when the reader granted nothing for the
// idle time.
var ErrReaderIdle = errors.New("the stream's reader granted no credit")

// Init opens the window with n items.
func (c *Credit) Init(n int) {
	c.wake = make(chan struct{}, 1)
	c.n.Store(int64(n))
}

// Grant adds n items to the window and wakes a waiting Acquire.
func (c *Credit) Grant(n int) {
	c.n.Add(int64(n))
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// Take takes one item of the window if there is one.
func (c *Credit) Take() bool {
	for {
		v := c.n.Load()
		if v <= 0 {
			return false
		}
		if c.n.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// Acquire waits for one item of the window, until ctx ends (its cause is
// returned) or idle passes with no grant (ErrReaderIdle).
func (c *Credit) Acquire(ctx context.Context, idle time.Duration) error {
	var timer *time.Timer
	for {
		if c.Take() {
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
		case <-c.wake:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-timer.C:
			return ErrReaderIdle
		}
	}
}

// Outbounds is the table of the streams a connection produces, by stream
// id, at most a fixed number at once: Add checks the bound and files the
// stream in one step, so that concurrent stream calls cannot pass it.
type Outbounds[T any] struct {
	mu  sync.Mutex
	max int
	m   map[uint32]T
}

// NewOutbounds returns a table of at most max streams.
func NewOutbounds[T any](max int) *Outbounds[T] {
	return &Outbounds[T]{max: max, m: map[uint32]T{}}
}

// Add files v as stream id's; false, filing nothing, when the table holds
// its maximum.
func (o *Outbounds[T]) Add(id uint32, v T) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.m) >= o.max {
		return false
	}
	o.m[id] = v
	return true
}

// Get returns stream id's entry.
func (o *Outbounds[T]) Get(id uint32) (T, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, ok := o.m[id]
	return v, ok
}

// Remove forgets stream id.
func (o *Outbounds[T]) Remove(id uint32) {
	o.mu.Lock()
	delete(o.m, id)
	o.mu.Unlock()
}
