package discovery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// lazy is the registry of an app with discovery.required: false whose
// backend did not answer at start-up: it opens the backend when first
// needed, at most once per retry interval, and until then every call
// fails saying the registry is not reachable yet.
type lazy struct {
	open  func(context.Context) (Registry, error)
	retry time.Duration
	log   *slog.Logger
	desc  string
	// openTimeout bounds each attempt to open the backend (0:
	// lazyOpenTimeout): the caller's context may have no deadline (a
	// pool's watch), and every call waits for the attempt.
	openTimeout time.Duration

	mu     sync.Mutex
	r      Registry
	last   time.Time
	err    error
	closed bool
	// opening is closed when the attempt to open the backend in progress
	// ends (nil: none is): the calls that come meanwhile wait for it
	// without the lock, as long as their own context allows.
	opening chan struct{}

	// What the app asked to present (Announce) before the backend
	// opened: presented once it opens, when it is an Announcer.
	announceTo   netron.Engine
	announceIns  []Instance
	stopAnnounce func()
}

// lazyOpenTimeout bounds an attempt to open a backend that did not answer
// at start-up.
const lazyOpenTimeout = 5 * time.Second

var (
	_ Registry  = (*lazy)(nil)
	_ Announcer = (*lazy)(nil)
	_ Lister    = (*lazy)(nil)
)

// get returns the backend, opening it when the retry interval allows. A
// call that comes while another opens it waits for that attempt, or
// until its own ctx ends.
func (l *lazy) get(ctx context.Context) (Registry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.opening != nil && l.r == nil && !l.closed {
		opening := l.opening
		l.mu.Unlock()
		select {
		case <-opening:
		case <-ctx.Done():
			l.mu.Lock()
			return nil, fmt.Errorf("discovery: %s is not reachable yet (still connecting): %w", l.desc, ctx.Err())
		}
		l.mu.Lock()
	}
	if l.r != nil {
		return l.r, nil
	}
	if l.closed {
		return nil, errors.New("discovery: the registry is closed")
	}
	if time.Since(l.last) < l.retry {
		return nil, fmt.Errorf("discovery: %s is not reachable yet: %w", l.desc, l.err)
	}
	l.last = time.Now()
	opening := make(chan struct{})
	l.opening = opening
	var (
		r   Registry
		err error
	)
	func() {
		l.mu.Unlock()
		// Locked again, and the waiters let go, even if open panics: the
		// deferred Unlock above needs the lock held.
		defer func() {
			l.mu.Lock()
			l.opening = nil
			close(opening)
		}()
		octx, cancel := context.WithTimeout(ctx, cmp.Or(l.openTimeout, lazyOpenTimeout))
		defer cancel()
		r, err = l.open(octx)
	}()
	if err == nil && l.closed { // Close came while it opened
		return nil, errors.Join(errors.New("discovery: the registry is closed"), r.Close())
	}
	if err != nil {
		l.err = err
		return nil, fmt.Errorf("discovery: %s is not reachable yet: %w", l.desc, err)
	}
	l.log.Info("the registry is reachable now", "registry", l.desc)
	l.r = r
	if an, ok := r.(Announcer); ok && l.announceTo != nil {
		stop, err := an.Announce(ctx, l.announceTo, l.announceIns)
		if err != nil {
			l.log.Warn("the registry is reachable, but the services cannot be presented in it", "registry", l.desc, "error", err)
		} else {
			l.stopAnnounce = stop
		}
	}
	return r, nil
}

// Announce presents the instances through the backend when it is an
// Announcer: at once when it is open, else as soon as it opens.
func (l *lazy) Announce(ctx context.Context, e netron.Engine, ins []Instance) (func(), error) {
	l.mu.Lock()
	if r := l.r; r != nil {
		l.mu.Unlock()
		if an, ok := r.(Announcer); ok {
			return an.Announce(ctx, e, ins)
		}
		return func() {}, nil
	}
	l.announceTo, l.announceIns = e, ins
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		stop := l.stopAnnounce
		l.announceTo, l.announceIns, l.stopAnnounce = nil, nil, nil
		l.mu.Unlock()
		if stop != nil {
			stop()
		}
	}, nil
}

func (l *lazy) Register(ctx context.Context, in Instance) error {
	r, err := l.get(ctx)
	if err != nil {
		return err
	}
	return r.Register(ctx, in)
}

func (l *lazy) Deregister(ctx context.Context, id string) error {
	r, err := l.get(ctx)
	if err != nil {
		return err
	}
	return r.Deregister(ctx, id)
}

func (l *lazy) Discover(ctx context.Context, q Query) ([]Instance, error) {
	r, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return r.Discover(ctx, q)
}

// Watch yields the error until the backend opens, then follows its watch.
func (l *lazy) Watch(ctx context.Context, q Query) iter.Seq2[[]Instance, error] {
	return func(yield func([]Instance, error) bool) {
		for {
			r, err := l.get(ctx)
			if err == nil {
				for ins, err := range r.Watch(ctx, q) {
					if !yield(ins, err) {
						return
					}
				}
				return
			}
			if !yield(nil, err) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.retry):
			}
		}
	}
}

func (l *lazy) Health(ctx context.Context, id string) (Health, error) {
	r, err := l.get(ctx)
	if err != nil {
		return "", err
	}
	return r.Health(ctx, id)
}

// Services implements [Lister] through the backend, once it opens.
func (l *lazy) Services(ctx context.Context) ([]string, error) {
	r, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	lr, ok := r.(Lister)
	if !ok {
		return nil, fmt.Errorf("discovery: the %s registry cannot list its services", l.desc)
	}
	return lr.Services(ctx)
}

func (l *lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if l.r != nil {
		return l.r.Close()
	}
	return nil
}
