package security

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// offender names who a refusal is about: a subject and/or an address,
// the address as the limits count it (clientKey: an IPv6 address by its
// /64 network), so that a client moving through the addresses of its
// network is one offender, not one per address.
func offender(addr, subject string) string {
	switch {
	case subject != "" && addr != "":
		return subject + " at " + clientKey(addr)
	case subject != "":
		return subject
	case addr != "":
		return clientKey(addr)
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
	// running counts the attempts being checked per client (attempt):
	// an entry lives while one runs, so the map holds no more than the
	// requests in flight.
	running map[string]*attempts
}

// attempts are the checks of one client's credentials running at once.
type attempts struct {
	n    int
	done chan struct{} // closed when one ends
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

// used returns the failures of key's current window and the time until
// it ends (0, 0 without one); f.mu is held.
func (f *failures) used(key string, now time.Time) (int, time.Duration) {
	w := f.m[key]
	if w == nil || now.Sub(w.start) >= time.Minute {
		return 0, 0
	}
	return w.n, w.start.Add(time.Minute).Sub(now)
}

// attempt reserves the check of one set of key's credentials within max
// failures: the failures of its window plus the checks of key running at
// once stay within max, so that parallel guesses cannot all be checked
// before the first failure is counted. A check over that waits for one
// running to end (a client's honest burst: the first success is cached),
// or for ctx. It returns blocked with the time until the window ends when
// key has used up max failures, else the function that ends the check,
// counting a failure when it failed. With max < 0 nothing is counted.
func (f *failures) attempt(ctx context.Context, key string, max int, now func() time.Time) (end func(failed bool), wait time.Duration, blocked bool, err error) {
	if max < 0 {
		return func(bool) {}, 0, false, nil
	}
	for {
		f.mu.Lock()
		used, wait := f.used(key, now())
		if used >= max {
			f.mu.Unlock()
			return nil, wait, true, nil
		}
		a := f.running[key]
		if a == nil || used+a.n < max {
			if a == nil {
				if f.running == nil {
					f.running = map[string]*attempts{}
				}
				a = &attempts{done: make(chan struct{})}
				f.running[key] = a
			}
			a.n++
			f.mu.Unlock()
			return func(failed bool) { f.end(key, a, failed, now()) }, 0, false, nil
		}
		done := a.done
		f.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			return nil, 0, false, ctx.Err()
		}
	}
}

// end ends a check attempt began, counting a failure when it failed, and
// wakes the checks waiting for it.
func (f *failures) end(key string, a *attempts, failed bool, now time.Time) {
	if failed {
		f.add(key, now)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a.n--
	close(a.done)
	a.done = make(chan struct{})
	if a.n == 0 {
		delete(f.running, key)
	}
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
