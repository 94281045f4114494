package security

import (
	"log/slog"
	"sort"
	"sync"
	"time"
)

// offender names who a refusal is about: a subject and/or an address.
func offender(addr, subject string) string {
	switch {
	case subject != "" && addr != "":
		return subject + " at " + hostOf(addr)
	case subject != "":
		return subject
	case addr != "":
		return hostOf(addr)
	}
	return "an unknown caller"
}

// offenders logs refusals once per offender and reason: the first at
// once, the repeats as a count when the minute that followed it is over
// (or at flush). It never sees a token: reasons are the guard's
// messages. At most max offenders are tracked; the others are counted
// together.
type offenders struct {
	log *slog.Logger
	max int

	mu    sync.Mutex
	seen  map[[2]string]*offence
	other int // repeats not tracked because the table was full
	timer *time.Timer
}

type offence struct {
	first  time.Time
	repeat int
}

func newOffenders(log *slog.Logger, max int) *offenders {
	return &offenders{log: log, max: max, seen: map[[2]string]*offence{}}
}

// every is how often repeated refusals are summed up in the log.
const every = time.Minute

func (o *offenders) note(who, reason string) {
	k := [2]string{who, reason}
	o.mu.Lock()
	if e := o.seen[k]; e != nil {
		e.repeat++
		o.mu.Unlock()
		return
	}
	if len(o.seen) >= o.max {
		o.other++
		o.mu.Unlock()
		return
	}
	o.seen[k] = &offence{first: time.Now()}
	if o.timer == nil {
		o.timer = time.AfterFunc(every, o.flush)
	}
	o.mu.Unlock()
	o.log.Warn("refused", "caller", who, "reason", reason)
}

// flush logs the repeats counted since the first refusals and forgets
// them.
func (o *offenders) flush() {
	o.mu.Lock()
	type line struct {
		who, reason string
		n           int
	}
	var lines []line
	for k, e := range o.seen {
		if e.repeat > 0 {
			lines = append(lines, line{k[0], k[1], e.repeat})
		}
	}
	other := o.other
	o.seen, o.other, o.timer = map[[2]string]*offence{}, 0, nil
	o.mu.Unlock()
	sort.Slice(lines, func(i, j int) bool { return lines[i].n > lines[j].n })
	for _, l := range lines {
		o.log.Warn("refused again", "caller", l.who, "reason", l.reason, "count", l.n)
	}
	if other > 0 {
		o.log.Warn("refused again", "caller", "other callers (too many to track)", "count", other)
	}
}

// failures counts failed authentications per remote host over fixed
// one-minute windows, for at most 10,000 hosts (the oldest window is
// dropped first).
type failures struct {
	mu sync.Mutex
	m  map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

const failuresMax = 10_000

// blocked reports whether host has used up max failures in its current
// window, and how long until the window ends.
func (f *failures) blocked(host string, max int, now time.Time) (time.Duration, bool) {
	if max < 0 {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[host]
	if w == nil || now.Sub(w.start) >= time.Minute {
		return 0, false
	}
	if w.n >= max {
		return w.start.Add(time.Minute).Sub(now), true
	}
	return 0, false
}

func (f *failures) add(host string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*failWindow{}
	}
	w := f.m[host]
	if w == nil || now.Sub(w.start) >= time.Minute {
		if w == nil && len(f.m) >= failuresMax {
			f.evict(now)
		}
		f.m[host] = &failWindow{start: now, n: 1}
		return
	}
	w.n++
}

// evict drops the windows that are over, or else the oldest one.
func (f *failures) evict(now time.Time) {
	var oldest string
	var at time.Time
	for h, w := range f.m {
		if now.Sub(w.start) >= time.Minute {
			delete(f.m, h)
			continue
		}
		if oldest == "" || w.start.Before(at) {
			oldest, at = h, w.start
		}
	}
	if len(f.m) >= failuresMax && oldest != "" {
		delete(f.m, oldest)
	}
}
