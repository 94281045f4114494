package discovery

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// errNotOpen is the error of a call to an app's registry before the app
// started.
var errNotOpen = errors.New("discovery: the registry is not open yet: it opens when the app starts")

// appRegistry is the [Registry] the module provides: the backend of the
// discovery section, opened by the app's start hook (within the start
// context fx gives) and closed by its stop hook. Calls before the start
// hook opened the backend fail with errNotOpen; a Watch begun then waits
// for the open and follows the backend. With
// discovery.required: false a backend that does not answer at start is
// replaced by a lazy registry that retries every heartbeat. It is safe
// for concurrent use.
type appRegistry struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	r      Registry      // nil until start opened it
	closed bool          // stop ran
	ready  chan struct{} // closed once r is set or stop ran
}

var (
	_ Registry  = (*appRegistry)(nil)
	_ Announcer = (*appRegistry)(nil)
	_ Lister    = (*appRegistry)(nil)
)

func newAppRegistry(c Config, log *slog.Logger) *appRegistry {
	return &appRegistry{cfg: c, log: log, ready: make(chan struct{})}
}

// start opens the backend, bounded by ctx. On an error nothing of the
// backend is left open.
func (a *appRegistry) start(ctx context.Context) error {
	c, log := a.cfg, a.log
	// The open ends a little before the start deadline, so that its
	// error (backend, URL, hint) is what the start reports, not fx's
	// bare deadline.
	if dl, ok := ctx.Deadline(); ok {
		margin := min(time.Until(dl)/10, 500*time.Millisecond)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	reg, err := Open(ctx, c, log)
	if err != nil {
		if c.Required == nil || *c.Required {
			return fmt.Errorf("%w (set discovery.required: false to start without it and retry)", err)
		}
		log.Warn("the registry does not answer; starting without it and retrying every heartbeat", "registry", c.Backend, "url", RedactURL(c.URL), "error", err)
		reg = &lazy{open: func(ctx context.Context) (Registry, error) { return Open(ctx, c, log) }, retry: c.Heartbeat,
			log: log, desc: c.Backend + " " + RedactURL(c.URL), err: err, last: time.Now()}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed { // stopped while opening
		return errors.Join(errors.New("discovery: the app stopped while the registry opened"), reg.Close())
	}
	a.r = reg
	close(a.ready)
	return nil
}

// stop closes what start opened; before start it only marks the registry
// closed.
func (a *appRegistry) stop(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	if a.r == nil {
		close(a.ready)
		return nil
	}
	return a.r.Close()
}

// get returns the open backend.
func (a *appRegistry) get() (Registry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.closed:
		return nil, errors.New("discovery: the registry is closed")
	case a.r == nil:
		return nil, errNotOpen
	}
	return a.r, nil
}

// Announce implements [Announcer]: through the backend when it is one.
func (a *appRegistry) Announce(ctx context.Context, e netron.Engine, ins []Instance) (func(), error) {
	r, err := a.get()
	if err != nil {
		return nil, err
	}
	if an, ok := r.(Announcer); ok {
		return an.Announce(ctx, e, ins)
	}
	return func() {}, nil
}

func (a *appRegistry) Register(ctx context.Context, in Instance) error {
	r, err := a.get()
	if err != nil {
		return err
	}
	return r.Register(ctx, in)
}

func (a *appRegistry) Deregister(ctx context.Context, id string) error {
	r, err := a.get()
	if err != nil {
		return err
	}
	return r.Deregister(ctx, id)
}

func (a *appRegistry) Discover(ctx context.Context, q Query) ([]Instance, error) {
	r, err := a.get()
	if err != nil {
		return nil, err
	}
	return r.Discover(ctx, q)
}

// Watch follows the backend's watch; begun before start (a client that
// follows its remotes from its own start hook), it waits for the backend
// to open, bounded by ctx, instead of yielding an error that says nothing
// is wrong.
func (a *appRegistry) Watch(ctx context.Context, q Query) iter.Seq2[[]Instance, error] {
	return func(yield func([]Instance, error) bool) {
		r, err := a.get()
		if errors.Is(err, errNotOpen) {
			select {
			case <-ctx.Done():
				return
			case <-a.ready:
			}
			r, err = a.get()
		}
		if err != nil {
			yield(nil, err)
			return
		}
		for ins, err := range r.Watch(ctx, q) {
			if !yield(ins, err) {
				return
			}
		}
	}
}

func (a *appRegistry) Health(ctx context.Context, id string) (Health, error) {
	r, err := a.get()
	if err != nil {
		return "", err
	}
	return r.Health(ctx, id)
}

// Services implements [Lister] through the backend (every backend in
// the tree lists its services); a backend that does not gets an error
// that says so.
func (a *appRegistry) Services(ctx context.Context) ([]string, error) {
	r, err := a.get()
	if err != nil {
		return nil, err
	}
	l, ok := r.(Lister)
	if !ok {
		return nil, fmt.Errorf("discovery: the %s registry cannot list its services", a.cfg.Backend)
	}
	return l.Services(ctx)
}

// Close implements [Registry]; the app's stop hook calls it.
func (a *appRegistry) Close() error { return a.stop(context.Background()) }
