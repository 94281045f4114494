package nats

import (
	"sync"
	"time"
)

// badEventEvery is the least time between two log records of undecodable
// events, as the engine logs a connection's malformed input: the first is
// logged, later ones are counted and the count goes with the next record.
const badEventEvery = 10 * time.Second

// badEventLog rate-limits the log records of undecodable events, so that
// a publisher sending garbage cannot fill the log. It is safe for
// concurrent use.
type badEventLog struct {
	mu    sync.Mutex
	last  time.Time // of the last record; zero before the first
	quiet int       // undecodable events not logged since
}

// record reports whether to write a log record now and, if so, how many
// undecodable events went unlogged since the last one; otherwise it
// counts the event.
func (b *badEventLog) record(now time.Time) (write bool, quiet int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.Sub(b.last) < badEventEvery {
		b.quiet++
		return false, 0
	}
	quiet = b.quiet
	b.last, b.quiet = now, 0
	return true, quiet
}
