package netron

import (
	"context"
	"errors"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
)

// Resolver finds where a service runs: the addresses of the instances
// serving a target, best first. titan.Remote asks the app's Resolver when
// it is given no address of its own (titan.At); the netron module provides
// a [StaticResolver] built from netron.remotes, and a discovery module
// replaces it with one backed by its registry, so that an app names only
// the service.
type Resolver interface {
	// Resolve returns the addresses (URLs such as tcp://10.0.0.5:7070) of
	// the instances serving t. Finding none is a not_found error that says
	// where the resolver looked.
	Resolve(ctx context.Context, t Target) ([]string, error)
}

// WatchResolver is a Resolver that also follows where a service runs: it
// yields the addresses Resolve would give, then again after each change,
// until ctx ends or the loop breaks. titan.Remote keeps its set of
// instances with it when the app's Resolver is one (discovery's is).
type WatchResolver interface {
	Resolver
	Watch(ctx context.Context, t Target) iter.Seq2[[]string, error]
}

// StaticResolver resolves service names from a fixed table of addresses,
// service name → address: the netron.remotes section of the
// configuration.
type StaticResolver map[string]string

// Resolve returns the address of t's service name, whatever the version
// range: the table names one process per service, whose version the
// caller checks when it binds.
func (r StaticResolver) Resolve(_ context.Context, t Target) ([]string, error) {
	if addr := r[t.Name]; addr != "" {
		return []string{addr}, nil
	}
	known := slices.Sorted(maps.Keys(r))
	if len(known) == 0 {
		return nil, Errorf(CodeNotFound, "no address for service %s: netron.remotes is empty (set netron.remotes.%s)", t.Name, t.Name)
	}
	return nil, Errorf(CodeNotFound, "no address for service %s: netron.remotes.%s is not set (netron.remotes has: %s)", t.Name, t.Name, strings.Join(known, ", "))
}

// Resolvers asks each Resolver in turn: the first that finds addresses
// answers, a not_found moves on to the next, and when none finds any the
// error says what each one looked at. The netron module's Resolver is
// Resolvers{StaticResolver(netron.remotes), those of the ResolverGroup...}.
type Resolvers []Resolver

// Resolve implements Resolver.
func (rs Resolvers) Resolve(ctx context.Context, t Target) ([]string, error) {
	_, addrs, err := rs.find(ctx, t)
	return addrs, err
}

// find returns the first resolver that has addresses for t, and them.
func (rs Resolvers) find(ctx context.Context, t Target) (Resolver, []string, error) {
	var misses []string
	for _, r := range rs {
		addrs, err := r.Resolve(ctx, t)
		if err == nil && len(addrs) > 0 {
			return r, addrs, nil
		}
		if err != nil && CodeOf(err) != CodeNotFound {
			return nil, nil, err
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				misses = append(misses, e.Message())
			} else {
				misses = append(misses, err.Error())
			}
		}
	}
	if len(misses) == 0 {
		return nil, nil, Errorf(CodeNotFound, "no address for %s", t)
	}
	return nil, nil, Errorf(CodeNotFound, "%s", strings.Join(misses, "; "))
}

// Watch implements WatchResolver: it follows the first resolver that
// finds t when the watch starts, if that one follows changes; fixed
// addresses are yielded once. While none finds t (a registry that does
// not answer), the error is yielded and the resolvers are asked again,
// after redialFirst, then twice as long each time up to redialMax.
func (rs Resolvers) Watch(ctx context.Context, t Target) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		r, addrs, err := rs.find(ctx, t)
		for delay := redialFirst; err != nil; delay = min(delay*2, redialMax) {
			if !yield(nil, err) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			r, addrs, err = rs.find(ctx, t)
		}
		if w, ok := r.(WatchResolver); ok {
			for addrs, err := range w.Watch(ctx, t) {
				if !yield(addrs, err) {
					return
				}
			}
			return
		}
		if yield(addrs, nil) {
			<-ctx.Done()
		}
	}
}
