package limit

import (
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
)

// FrameClock is the deadline of one message being received: Timeout from its first byte,
// moved to Rate.Per from now each time Rate.Bytes more have arrived, if that is later. So a
// message completes within Timeout, or keeps arriving at Rate at least; a stall is caught
// within max(Timeout, Rate.Per) of its last counted progress. The zero value, and a clock
// whose Timeout is zero, never runs out. It is not safe for concurrent use.
type FrameClock struct {
	Timeout time.Duration
	Rate    transport.Rate
	What    string // what is timed, for Expired: "message" when empty

	running  bool
	started  time.Time
	deadline time.Time
	got      int64 // bytes since start
	since    int   // bytes since the deadline last moved
}

// On reports whether the clock limits anything.
func (f *FrameClock) On() bool { return f.Timeout > 0 }

// Running reports whether a message is being timed.
func (f *FrameClock) Running() bool { return f.running }

// Start starts timing a message whose first bytes (got of them) arrived at now and returns
// its deadline.
func (f *FrameClock) Start(now time.Time, got int) time.Time {
	f.running = true
	f.started = now
	f.deadline = now.Add(f.Timeout)
	f.got, f.since = int64(got), 0
	return f.deadline
}

// Progress counts n more bytes of the message; when they make up Rate.Bytes since the deadline
// last moved, it returns the new deadline and true.
func (f *FrameClock) Progress(n int) (time.Time, bool) {
	f.got += int64(n)
	f.since += n
	if f.Rate.Bytes <= 0 || f.since < f.Rate.Bytes {
		return time.Time{}, false
	}
	f.since = 0
	d := time.Now().Add(f.Rate.Per)
	if !d.After(f.deadline) {
		return time.Time{}, false
	}
	f.deadline = d
	return d, true
}

// Stop ends timing the message.
func (f *FrameClock) Stop() { f.running = false }

// Expired describes the message that ran out of time, for an error matching
// [transport.ErrFrameTimeout]: what a message of the connection from remote had delivered
// (of total bytes, when known; total < 0 otherwise), what detail adds when not empty (how the
// bytes were counted, where they stopped) and the rule it broke.
func (f *FrameClock) Expired(remote string, total int64, detail string) error {
	of := ""
	if total >= 0 {
		of = fmt.Sprintf(" of %d", total)
	}
	what := f.What
	if what == "" {
		what = "message"
	}
	rule := fmt.Sprintf("a %s must be complete within %v", what, f.Timeout)
	if f.Rate.Bytes > 0 {
		rule += fmt.Sprintf(" or arrive at %s at least", f.Rate)
	}
	if detail != "" {
		detail = ", " + detail
	}
	return fmt.Errorf("%w: %s sent %d%s bytes of a %s in %v%s (%s); connection closed",
		transport.ErrFrameTimeout, remote, f.got, of, what, time.Since(f.started).Round(time.Millisecond), detail, rule)
}
