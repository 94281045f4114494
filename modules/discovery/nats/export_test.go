package nats

// SetAfterCollect makes reconnected call f once it has collected the
// entries it writes again, before it writes them: a test runs there what
// may come between the two.
func (r *Registry) SetAfterCollect(f func()) { r.afterCollect = f }

// SetBeforeRaise makes the raise of the bucket's age limit call f once it
// has read the bucket's configuration, before it writes it.
func (r *Registry) SetBeforeRaise(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.beforeRaise = f
}
