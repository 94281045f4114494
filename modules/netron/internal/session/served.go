package session

import "sync"

// Served is the table of the requests a connection serves: at most a
// fixed number at once (a slot each: the reader takes one before it hands
// a request on, and waits while none is free, so TCP holds the peer back),
// each findable by its request id while it runs (the peer's cancel packet
// names it), all ended together when the connection ends. T is the
// engine's per-call state, compared by identity.
type Served[T comparable] struct {
	slots chan struct{}

	mu   sync.Mutex
	byID map[uint32]T
	// shadowed holds the entries a later Track of the same id displaced
	// (a peer may reuse a request id while its first request runs), with
	// their ids: still running, they are ended with the connection.
	shadowed map[T]uint32
	ended    bool
}

// NewServed returns a table of at most max requests served at once.
func NewServed[T comparable](max int) *Served[T] {
	return &Served[T]{slots: make(chan struct{}, max), byID: map[uint32]T{}}
}

// Take takes a slot, waiting while every slot is taken; false when done
// is closed first.
func (s *Served[T]) Take(done <-chan struct{}) bool {
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-done:
		return false
	}
}

// Free gives a slot back.
func (s *Served[T]) Free() { <-s.slots }

// Full reports whether every slot is taken.
func (s *Served[T]) Full() bool { return len(s.slots) == cap(s.slots) }

// Track files v as the request id's; false, filing nothing, once End has
// been called (the caller ends v itself then).
func (s *Served[T]) Track(id uint32, v T) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	if old, ok := s.byID[id]; ok && old != v {
		if s.shadowed == nil {
			s.shadowed = map[T]uint32{}
		}
		s.shadowed[old] = id
	}
	s.byID[id] = v
	return true
}

// Untrack removes v, if it is still the request id's, and runs done (when
// not nil) under the table's lock, so that Each never sees v half done.
func (s *Served[T]) Untrack(id uint32, v T, done func(T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.byID[id]; ok && cur == v {
		delete(s.byID, id)
	} else if sid, ok := s.shadowed[v]; ok && sid == id {
		delete(s.shadowed, v)
	} else {
		return
	}
	if done != nil {
		done(v)
	}
}

// Get returns the request id's entry.
func (s *Served[T]) Get(id uint32) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.byID[id]
	return v, ok
}

// Each calls f for every entry, under the table's lock.
func (s *Served[T]) Each(f func(T)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.byID {
		f(v)
	}
	for v := range s.shadowed {
		f(v)
	}
}

// End empties the table for good (Track refuses from then on) and returns
// what it held, for the caller to end.
func (s *Served[T]) End() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	out := make([]T, 0, len(s.byID)+len(s.shadowed))
	for _, v := range s.byID {
		out = append(out, v)
	}
	for v := range s.shadowed {
		out = append(out, v)
	}
	clear(s.byID)
	clear(s.shadowed)
	return out
}
