package nats

import "context"

// SetAfterCollect makes reconnected call f once it has collected the
// entries it writes again, before it writes them: a test runs there what
// may come between the two.
func (r *Registry) SetAfterCollect(f func()) { r.afterCollect = f }

// SetBeforeRaise makes the raise of the bucket's age limit call f once it
// has read the bucket's configuration, before it writes it.
func (r *Registry) SetBeforeRaise(f func()) {
	_ = r.mu.Lock(context.Background())
	defer r.mu.Unlock()
	r.beforeRaise = f
}

// Renew runs what a reconnection runs: the watchers are woken and the
// entries written again.
func (r *Registry) Renew() { r.renew("in a test") }

// BackSignal is the channel closed when the entries are next written
// again.
func (r *Registry) BackSignal() <-chan struct{} { return r.backSignal() }
