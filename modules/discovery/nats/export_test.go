package nats

// SetAfterCollect makes reconnected call f once it has collected the
// entries it writes again, before it writes them: a test runs there what
// may come between the two.
func (r *Registry) SetAfterCollect(f func()) { r.afterCollect = f }
