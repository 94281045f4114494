package nats

import (
	"context"
	"time"
)

// SetAfterCollect makes reconnected call f once it has collected the
// entries it writes again, before it writes them: a test runs there what
// may come between the two.
func (r *Registry) SetAfterCollect(f func()) { r.afterCollect = f }

// SetBeforeRaise makes the raise of the bucket's age limit call f once it
// has read the bucket's configuration, before it writes it.
func (r *Registry) SetBeforeRaise(f func()) {
	_ = r.mu.Lock(context.Background(), "set beforeRaise")
	defer r.mu.Unlock()
	r.beforeRaise = f
}

// Renew runs what a reconnection runs: the watchers are woken and the
// entries written again.
func (r *Registry) Renew() { r.renew("in a test") }

// BackSignal is the channel closed when the entries are next written
// again.
func (r *Registry) BackSignal() <-chan struct{} { return r.backSignal() }

// HoldWrites takes the lock of the registry's writes (Register's,
// Deregister's, the write-back's) as a write-back in progress would,
// until release.
func (r *Registry) HoldWrites() (release func()) {
	_ = r.writeMu.Lock(context.Background(), "hold the writes in a test")
	return r.writeMu.Unlock
}

// HoldBucket takes the lock of the bucket's opening as an opening in
// progress would, until release.
func (r *Registry) HoldBucket() (release func()) {
	_ = r.mu.Lock(context.Background(), "hold the bucket in a test")
	return r.mu.Unlock
}

// InBytes is how many bytes the registry's connection has received.
func (r *Registry) InBytes() uint64 { return r.nc.Stats().InBytes }

// SetWatchRetry sets the first pause before watching again, doubled
// while watching fails (default 50ms).
func (r *Registry) SetWatchRetry(d time.Duration) { r.watchRetry = d }
