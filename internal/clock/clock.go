// Package clock names the time source that titan.WithClock gives the
// features of an app that keep time (the response cache, the in-process
// rate limiter), so that a test can drive them with a fake clock.
package clock

import "time"

// Now reads the time. An app holds one in fx only when titan.WithClock
// supplied it; the features take it as an optional dependency and read
// the system clock without it.
type Now func() time.Time
