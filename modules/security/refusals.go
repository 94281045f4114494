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

// failures counts failed authentications per client over fixed one-minute
// windows, for at most failuresMax clients (see clientKey): when the
// table is full, the window that began first is dropped. Every operation
// is O(1) amortised: windows are queued in the order they began, so the
// first one, and those that are over, are found at the queue's head
// instead of by a walk over the table under its lock.
type failures struct {
	mu    sync.Mutex
	m     map[string]*failWindow
	order []failEntry // the windows in the order they began, from head on
	head  int
}

type failWindow struct {
	start time.Time
	n     int
}

// failEntry is a window in failures.order; it is stale once its client's
// window in the table is another (or gone).
type failEntry struct {
	key   string
	start time.Time
}

const failuresMax = 10_000

// blocked reports whether key has used up max failures in its current
// window, and how long until the window ends.
func (f *failures) blocked(key string, max int, now time.Time) (time.Duration, bool) {
	if max < 0 {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.m[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		return 0, false
	}
	if w.n >= max {
		return w.start.Add(time.Minute).Sub(now), true
	}
	return 0, false
}

func (f *failures) add(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]*failWindow{}
	}
	f.dropOver(now)
	w := f.m[key]
	if w != nil && now.Sub(w.start) < time.Minute {
		w.n++
		return
	}
	if w == nil && len(f.m) >= failuresMax {
		f.dropFirst()
	}
	f.m[key] = &failWindow{start: now, n: 1}
	f.order = append(f.order, failEntry{key, now})
}

// current reports whether e is its client's window in the table.
func (f *failures) current(e failEntry) bool {
	w := f.m[e.key]
	return w != nil && w.start.Equal(e.start)
}

// pop removes the head of the queue, and the table's window if it is the
// head's, then gives the queue's storage back once most of it is behind
// the head.
func (f *failures) pop() {
	if e := f.order[f.head]; f.current(e) {
		delete(f.m, e.key)
	}
	f.order[f.head] = failEntry{}
	f.head++
	if f.head == len(f.order) {
		f.order, f.head = f.order[:0], 0
	} else if f.head >= 1024 && f.head*2 >= len(f.order) {
		n := copy(f.order, f.order[f.head:])
		clear(f.order[n:])
		f.order, f.head = f.order[:n], 0
	}
}

// dropOver drops the windows that are over; they are at the head, the
// clock being monotonic.
func (f *failures) dropOver(now time.Time) {
	for f.head < len(f.order) && now.Sub(f.order[f.head].start) >= time.Minute {
		f.pop()
	}
}

// dropFirst drops the window that began first.
func (f *failures) dropFirst() {
	for f.head < len(f.order) {
		current := f.current(f.order[f.head])
		f.pop()
		if current {
			return
		}
	}
}
