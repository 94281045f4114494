// Package memory is the in-process registry, discovery's default backend
// ("memory"): the instances of the services one process registers, for
// its own remotes, with the same time to live and watches as the
// distributed backends. Apps that share one Registry value (tests, a
// process hosting several apps) find each other's services.
package memory

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("memory", func(_ context.Context, c discovery.Config, _ *slog.Logger) (discovery.Registry, error) {
		return New(c.TTL), nil
	})
}

// Registry is an in-process registry. The zero value is not usable; call
// New. It keeps copies of the instances registered and gives copies:
// callers may change what they passed to Register and what Discover and
// Watch return.
type Registry struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]entry
	changed chan struct{} // closed (and replaced) at every change
}

type entry struct {
	in      discovery.Instance
	expires time.Time
}

var _ discovery.Registry = (*Registry)(nil)

// New returns an empty registry whose entries live ttl after their last
// Register.
func New(ttl time.Duration) *Registry {
	if ttl <= 0 {
		ttl = discovery.DefaultConfig().TTL
	}
	return &Registry{ttl: ttl, entries: map[string]entry{}, changed: make(chan struct{})}
}

// changedLocked wakes the watchers.
func (r *Registry) changedLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// expireLocked drops the entries whose time ran out and returns the
// earliest expiry of those left (zero when there are none).
func (r *Registry) expireLocked(now time.Time) time.Time {
	var next time.Time
	dropped := false
	for id, e := range r.entries {
		if !e.expires.After(now) {
			delete(r.entries, id)
			dropped = true
			continue
		}
		if next.IsZero() || e.expires.Before(next) {
			next = e.expires
		}
	}
	if dropped {
		r.changedLocked()
	}
	return next
}

// Register implements discovery.Registry.
func (r *Registry) Register(_ context.Context, in discovery.Instance) error {
	if err := in.Validate(); err != nil {
		return err
	}
	in = own(in)
	r.mu.Lock()
	defer r.mu.Unlock()
	old, had := r.entries[in.ID]
	r.entries[in.ID] = entry{in: in, expires: time.Now().Add(r.ttl)}
	if !had || !old.in.Equal(in) {
		r.changedLocked()
	}
	return nil
}

// Deregister implements discovery.Registry.
func (r *Registry) Deregister(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.entries[id]; ok {
		delete(r.entries, id)
		r.changedLocked()
	}
	return nil
}

// Discover implements discovery.Registry.
func (r *Registry) Discover(_ context.Context, q discovery.Query) ([]discovery.Instance, error) {
	match, err := q.Matcher()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	return r.selectLocked(match), nil
}

// selectLocked returns copies of the instances match selects, sorted by
// id: the caller may change them.
func (r *Registry) selectLocked(match func(discovery.Instance) bool) []discovery.Instance {
	out := []discovery.Instance{}
	for _, e := range r.entries {
		if match(e.in) {
			out = append(out, own(e.in))
		}
	}
	discovery.SortInstances(out)
	return out
}

// own returns a copy of in that shares neither its addresses nor its
// metadata: what the registry keeps, or gives a caller, is its own.
func own(in discovery.Instance) discovery.Instance {
	in.Addrs = slices.Clone(in.Addrs)
	in.Metadata = maps.Clone(in.Metadata)
	return in
}

// owned is own of each of ins.
func owned(ins []discovery.Instance) []discovery.Instance {
	out := make([]discovery.Instance, len(ins))
	for i, in := range ins {
		out[i] = own(in)
	}
	return out
}

// Watch implements discovery.Registry.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		match, err := q.Matcher()
		if err != nil {
			yield(nil, err)
			return
		}
		var changes discovery.Changes
		for {
			r.mu.Lock()
			next := r.expireLocked(time.Now())
			snap := r.selectLocked(match)
			changed := r.changed
			r.mu.Unlock()
			// changes keeps snap; the watcher gets a copy of its own
			if changes.Changed(snap) && !yield(owned(snap), nil) {
				return
			}
			var (
				expiry <-chan time.Time
				t      *time.Timer
			)
			if !next.IsZero() {
				t = time.NewTimer(time.Until(next))
				expiry = t.C
			}
			select {
			case <-ctx.Done():
			case <-changed:
			case <-expiry:
			}
			if t != nil {
				t.Stop()
			}
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// Health implements discovery.Registry.
func (r *Registry) Health(_ context.Context, id string) (discovery.Health, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	e, ok := r.entries[id]
	if !ok {
		return "", fmt.Errorf("%w: %q", discovery.ErrNotFound, id)
	}
	return e.in.Health, nil
}

// Services implements discovery.Lister: the names of the services with a
// live instance, sorted.
func (r *Registry) Services(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expireLocked(time.Now())
	var out []string
	for _, e := range r.entries {
		if !slices.Contains(out, e.in.Service) {
			out = append(out, e.in.Service)
		}
	}
	slices.Sort(out)
	return out, nil
}

var _ discovery.Lister = (*Registry)(nil)

// Close implements discovery.Registry; the registry keeps its entries.
func (r *Registry) Close() error { return nil }
