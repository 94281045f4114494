// Package composite is discovery's composite backend ("composite"):
// several registries used as one. Import it and the packages of the
// registries it joins, set discovery.backend: composite and list them in
// discovery.backends by URL (the scheme names the backend):
//
//	discovery:
//	  backend: composite
//	  backends: [redis://10.0.0.2:6379/0, etcd://10.0.0.3:2379]
//
// An instance registers in every registry; finding instances reads them
// all and merges what they hold, an instance held by several counted
// once. A registry that fails is reported, but while another answers the
// composite does.
package composite

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/titanframework/titan/modules/discovery"
)

func init() {
	discovery.RegisterBackend("composite", func(ctx context.Context, c discovery.Config, log *slog.Logger) (discovery.Registry, error) {
		if len(c.Backends) == 0 {
			return nil, errors.New("discovery.backends: list the registries to join (redis://…, nats://…, etcd://…)")
		}
		var (
			regs  []discovery.Registry
			names []string
		)
		for i, raw := range c.Backends {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme == "" {
				closeAll(regs)
				return nil, fmt.Errorf("discovery.backends[%d] %q: want a URL such as redis://127.0.0.1:6379/0", i, raw)
			}
			if u.Scheme == "composite" {
				closeAll(regs)
				return nil, fmt.Errorf("discovery.backends[%d] %q: a composite cannot hold a composite", i, raw)
			}
			if u.Scheme == "http" || u.Scheme == "https" { // the consul backend's discovery.url
				closeAll(regs)
				hint := fmt.Sprintf("for the Consul agent at http://%s write consul://%s", u.Host, u.Host)
				if u.Scheme == "https" {
					hint = "a composite reaches a Consul agent over plain http only, as consul://host:8500"
				}
				return nil, fmt.Errorf("discovery.backends[%d] %q: the scheme names the backend (redis://…, nats://…, etcd://…, consul://…, memory://); %s", i, discovery.RedactURL(raw), hint)
			}
			sub := c
			sub.Backend, sub.URL, sub.Backends = u.Scheme, raw, nil
			if u.Scheme == "memory" {
				sub.URL = ""
			}
			r, err := discovery.Open(ctx, sub, log)
			if err != nil {
				closeAll(regs)
				return nil, fmt.Errorf("discovery.backends[%d]: %w", i, err)
			}
			regs = append(regs, r)
			names = append(names, fmt.Sprintf("discovery.backends[%d] %s", i, u.Redacted()))
		}
		reg := New(regs...)
		reg.names = names
		return reg, nil
	})
}

func closeAll(regs []discovery.Registry) {
	for _, r := range regs {
		_ = r.Close()
	}
}

// Registry joins registries.
type Registry struct {
	regs  []discovery.Registry
	names []string // of regs, for errors (nil: by position)
}

// name is what the errors of the i-th registry say it is.
func (r *Registry) name(i int) string {
	if i < len(r.names) {
		return r.names[i]
	}
	return fmt.Sprintf("registry %d of %d", i+1, len(r.regs))
}

// errorOf is err, an error of the i-th registry, naming it.
func (r *Registry) errorOf(i int, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", r.name(i), err)
}

var (
	_ discovery.Registry = (*Registry)(nil)
	_ discovery.Lister   = (*Registry)(nil)
)

// New returns the registry that joins regs; Close closes them.
func New(regs ...discovery.Registry) *Registry { return &Registry{regs: regs} }

// each runs f on every registry at once (with its position in regs) and
// joins their errors; ok counts those that succeeded.
func (r *Registry) each(f func(i int, reg discovery.Registry) error) (ok int, err error) {
	errs := make([]error, len(r.regs))
	var wg sync.WaitGroup
	for i, reg := range r.regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.errorOf(i, f(i, reg))
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e == nil {
			ok++
		}
	}
	return ok, errors.Join(errs...)
}

// Register implements discovery.Registry: in every registry; it fails
// when one fails (the next heartbeat tries it again).
func (r *Registry) Register(ctx context.Context, in discovery.Instance) error {
	_, err := r.each(func(_ int, reg discovery.Registry) error { return reg.Register(ctx, in) })
	return err
}

// Deregister implements discovery.Registry.
func (r *Registry) Deregister(ctx context.Context, id string) error {
	_, err := r.each(func(_ int, reg discovery.Registry) error { return reg.Deregister(ctx, id) })
	return err
}

// Discover implements discovery.Registry: the union of what the
// registries that answered hold; an error only when none answered. An
// instance several registries hold is as the first of them (in the order
// New was given them) holds it.
func (r *Registry) Discover(ctx context.Context, q discovery.Query) ([]discovery.Instance, error) {
	all := make([][]discovery.Instance, len(r.regs)) // by position: merge keeps the first
	ok, err := r.each(func(i int, reg discovery.Registry) error {
		ins, err := reg.Discover(ctx, q)
		if err == nil {
			all[i] = ins
		}
		return err
	})
	if ok == 0 && err != nil {
		return nil, err
	}
	return merge(all...), nil
}

// merge is the union of snapshots, an id kept once (as the first snapshot
// holding it has it), sorted by id.
func merge(snaps ...[]discovery.Instance) []discovery.Instance {
	out := []discovery.Instance{}
	seen := map[string]bool{}
	for _, s := range snaps {
		for _, in := range s {
			if !seen[in.ID] {
				seen[in.ID] = true
				out = append(out, in)
			}
		}
	}
	discovery.SortInstances(out)
	return out
}

// othersWait is how long Watch waits, after a first registry answered,
// for those it has heard nothing from (neither a snapshot nor an error)
// before it yields what the others hold.
const othersWait = 200 * time.Millisecond

// Watch implements discovery.Registry: each registry's watch, merged; an
// error of one is yielded, and its last snapshot kept. The first snapshot
// comes once every registry has answered or failed, or [othersWait] after
// the first answered; until every registry has answered or failed, the
// first snapshot yielded holds instances, since one that has not answered
// may hold some. Once a snapshot has been yielded, every change is, the
// last instance leaving too.
func (r *Registry) Watch(ctx context.Context, q discovery.Query) iter.Seq2[[]discovery.Instance, error] {
	return func(yield func([]discovery.Instance, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type update struct {
			i   int
			ins []discovery.Instance
			err error
		}
		updates := make(chan update)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		for i, reg := range r.regs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ins, err := range reg.Watch(ctx, q) {
					select {
					case updates <- update{i, ins, err}:
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		last := make([][]discovery.Instance, len(r.regs))
		heard := make([]bool, len(r.regs)) // a snapshot or an error
		answered, waited := false, false
		timer := time.NewTimer(othersWait)
		timer.Stop() // started when the first registry answers
		defer timer.Stop()
		var wait <-chan time.Time
		var changes discovery.Changes
		sent := false // a snapshot was yielded
		for {
			select {
			case <-ctx.Done():
				return
			case <-wait:
				wait, waited = nil, true
			case u := <-updates:
				heard[u.i] = true
				if u.err != nil {
					if !yield(nil, r.errorOf(u.i, u.err)) {
						return
					}
				} else {
					last[u.i] = u.ins
					if !answered {
						answered = true
						timer.Reset(othersWait)
						wait = timer.C
					}
				}
			}
			if !answered {
				continue
			}
			snap := merge(last...)
			if slices.Contains(heard, false) && (!waited || len(snap) == 0 && !sent) {
				continue // a registry not heard from may hold more
			}
			if changes.Changed(snap) {
				sent = true
				if !yield(snap, nil) {
					return
				}
			}
		}
	}
}

// Health implements discovery.Registry: the first registry that holds
// the instance answers.
func (r *Registry) Health(ctx context.Context, id string) (discovery.Health, error) {
	var errs []error
	for i, reg := range r.regs {
		h, err := reg.Health(ctx, id)
		if err == nil {
			return h, nil
		}
		errs = append(errs, r.errorOf(i, err))
	}
	return "", errors.Join(errs...)
}

// Services implements discovery.Lister: the union of the lists of the
// registries that can list and answered; an error only when none of them
// answered.
func (r *Registry) Services(ctx context.Context) ([]string, error) {
	var (
		out      []string
		errs     []error
		answered bool
	)
	for i, reg := range r.regs {
		l, ok := reg.(discovery.Lister)
		if !ok {
			continue
		}
		names, err := l.Services(ctx)
		if err != nil {
			errs = append(errs, r.errorOf(i, err))
			continue
		}
		answered = true
		for _, n := range names {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	if !answered && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.Sort(out)
	return out, nil
}

// Close implements discovery.Registry: it closes every registry.
func (r *Registry) Close() error {
	var errs []error
	for i, reg := range r.regs {
		errs = append(errs, r.errorOf(i, reg.Close()))
	}
	return errors.Join(errs...)
}
