// Package logevery spaces the log records of an event that a peer can
// repeat at will (malformed input, a refused export), so that it cannot
// fill the log: the first occurrence is logged, later ones within
// [Interval] are counted, and the count goes with the next record.
package logevery

import (
	"sync"
	"time"
)

// Interval is the least time between two records of one [Limiter].
const Interval = 10 * time.Second

// Limiter decides which occurrences of one event are logged. The zero
// value is ready to use; it is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	last   time.Time // of the last record; zero before the first
	missed int       // occurrences not logged since
	ended  bool
}

// Allow reports whether the occurrence at now is logged and, if so, how
// many went unlogged since the last record; otherwise it counts it.
func (l *Limiter) Allow(now time.Time) (ok bool, missed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < Interval {
		l.missed++
		return false, 0
	}
	missed = l.missed
	l.last, l.missed = now, 0
	return true, missed
}

// End returns the count of occurrences not logged, once: for a last
// record when the source of the event goes away.
func (l *Limiter) End() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return 0
	}
	l.ended = true
	m := l.missed
	l.missed = 0
	return m
}
