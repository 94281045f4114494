package devui

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/titanframework/titan/modules/netron"
)

// fanout serves the event monitor's subscriptions through one
// subscription of a backend's, while there are any: it calls the
// handlers of those an event matches one after the other, with the
// rendering of its payload shared among them (sharedPayload), so that an
// event is rendered once, not once for each subscription of each open
// monitor.
type fanout struct {
	mu   sync.Mutex
	subs atomic.Pointer[[]*fanoutSub] // replaced under mu, never changed
	stop func()                       // ends the backend's subscription
}

// fanoutSub is a subscription of the event monitor served by a fanout.
type fanoutSub struct {
	match   func(topic string) bool // nil: every event the fanout is given
	fn      netron.EventHandler
	removed atomic.Bool // set by its unsubscribe: dispatch no longer calls it
}

func (s *fanoutSub) matches(topic string) bool { return s.match == nil || s.match(topic) }

// add adds the subscription of h to the events match reports true for
// (nil: all), and returns the function that ends it. The first one
// subscribes by start, which is to call dispatch; the one that ends the
// last, ends that.
func (f *fanout) add(match func(topic string) bool, h netron.EventHandler, start func() (stop func(), err error)) (func(), error) {
	s := &fanoutSub{match: match, fn: h}
	f.mu.Lock()
	defer f.mu.Unlock()
	var subs []*fanoutSub
	if cur := f.subs.Load(); cur != nil {
		subs = *cur
	}
	if len(subs) == 0 {
		stop, err := start()
		if err != nil {
			return nil, err
		}
		f.stop = stop
	}
	next := append(slices.Clip(subs), s)
	f.subs.Store(&next)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.removed.Store(true)
			f.remove(s)
		})
	}, nil
}

// remove removes s, and ends the backend's subscription with the last.
func (f *fanout) remove(s *fanoutSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	subs := *f.subs.Load()
	i := slices.Index(subs, s)
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(subs), i, i+1)
	f.subs.Store(&next)
	if len(next) == 0 {
		f.stop()
		f.stop = nil
	}
}

// empty reports whether f serves no subscription.
func (f *fanout) empty() bool {
	cur := f.subs.Load()
	return cur == nil || len(*cur) == 0
}

// dispatch calls the handlers of the subscriptions e matches, one after
// the other, on the goroutine that delivers e (the one that emits it, for
// the app's own). With several, they share the rendering of its payload.
// A handler's panic does not keep the others from e; the first goes on
// to the caller, the Netron, which logs it.
func (f *fanout) dispatch(ctx context.Context, e netron.Event) {
	cur := f.subs.Load()
	if cur == nil {
		return
	}
	matched := 0
	for _, s := range *cur {
		if s.matches(e.Topic) {
			matched++
		}
	}
	if matched > 1 {
		ctx = withSharedPayload(ctx)
	}
	var panicked any
	for _, s := range *cur {
		if s.removed.Load() || !s.matches(e.Topic) {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil && panicked == nil {
					panicked = r
				}
			}()
			s.fn(ctx, e)
		}()
	}
	if panicked != nil {
		panic(panicked)
	}
}
