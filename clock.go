package titan

import (
	"errors"
	"time"

	"go.uber.org/fx"

	"github.com/titanframework/titan/internal/clock"
)

// WithClock makes the features of the app that keep time read it from now
// instead of the system clock: the response cache (a result of
// titan.Cache or titan.CacheTTL expires when now has moved on by the TTL)
// and the in-process rate limiter of the security module (titan.RateLimit
// windows slide with now). It is meant for tests, with a clock the test
// moves on (titantest.Clock), and is an app-level option. Timeouts,
// deadlines, token expiry and a Redis-backed rate limiter (which reads the
// Redis server's clock) still follow the real time. A nil now is an
// error, and so is a second WithClock.
func WithClock(now func() time.Time) Option {
	return appLevel("WithClock(...)", func(s *settings) {
		if now == nil {
			s.errs = append(s.errs, errors.New("WithClock: nil clock"))
			return
		}
		if s.clock {
			s.errs = append(s.errs, errors.New("WithClock: given twice; an app has one clock"))
			return
		}
		s.clock = true
		s.fx = append(s.fx, fx.Supply(clock.Now(now)))
	})
}
