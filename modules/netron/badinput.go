package netron

import (
	"sync"
	"time"
)

// badInputEvery is the least time between two log records of malformed
// input from one connection: the first is logged, later ones are counted
// and the count goes with the next record (or with the connection's end).
const badInputEvery = 10 * time.Second

// badInputLog rate-limits the log records of one connection's malformed
// input, so that a peer sending garbage cannot fill the log.
type badInputLog struct {
	mu     sync.Mutex
	last   time.Time // of the last record; zero before the first
	quiet  int       // malformed messages not logged since
	closed bool
}

// logBad logs a malformed message of the connection, or counts it when a
// record was written less than badInputEvery ago.
func (c *conn) logBad(msg string, args ...any) {
	b := &c.bad
	b.mu.Lock()
	now := time.Now()
	if !b.last.IsZero() && now.Sub(b.last) < badInputEvery {
		b.quiet++
		b.mu.Unlock()
		return
	}
	quiet := b.quiet
	b.last, b.quiet = now, 0
	b.mu.Unlock()
	if quiet > 0 {
		args = append(args, "dropped_since_last_record", quiet)
	}
	c.p.log.Warn(msg, args...)
}

// end returns the count of malformed messages not logged, once.
func (b *badInputLog) end() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0
	}
	b.closed = true
	q := b.quiet
	b.quiet = 0
	return q
}
