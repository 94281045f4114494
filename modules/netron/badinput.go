package netron

import (
	"time"
)

// logBad logs a malformed message of the connection, or counts it when a
// record was written less than logevery.Interval ago (c.bad), so that a
// peer sending garbage cannot fill the log.
func (c *conn) logBad(msg string, args ...any) {
	ok, missed := c.bad.Allow(time.Now())
	if !ok {
		return
	}
	if missed > 0 {
		args = append(args, "dropped_since_last_record", missed)
	}
	c.p.log.Warn(msg, args...)
}
