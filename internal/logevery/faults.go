package logevery

import (
	"hash/maphash"
	"log/slog"
	"sync"
	"time"
)

// MaxFaults is how many entries a [Faults] remembers.
const MaxFaults = 1024

// Faults decides which faults of entries a reader meets again on every
// pass (a malformed entry of a registry others write to) are logged: the
// first of each entry, and again when the entry's fault changes, not on
// every pass. It remembers at most [MaxFaults] entries; the faults of
// entries beyond them are spaced as a [Limiter]'s records are. The zero
// value is ready to use; it is safe for concurrent use.
type Faults struct {
	mu   sync.Mutex
	seed maphash.Seed
	seen map[string]uint64 // entry -> the hash of its fault logged
	more Limiter           // the faults of entries beyond MaxFaults
}

// Report reports whether the entry's fault, met at now, is logged and, if
// so, how many faults of entries beyond [MaxFaults] went unlogged since
// the last record of one.
func (f *Faults) Report(entry, fault string, now time.Time) (ok bool, missed int) {
	f.mu.Lock()
	if f.seen == nil {
		f.seed, f.seen = maphash.MakeSeed(), map[string]uint64{}
	}
	h := maphash.String(f.seed, fault)
	if was, known := f.seen[entry]; known || len(f.seen) < MaxFaults {
		f.seen[entry] = h
		f.mu.Unlock()
		return !known || was != h, 0
	}
	f.mu.Unlock()
	return f.more.Allow(now)
}

// Forget forgets the entry's fault, when it is fixed or gone: a fault
// it has again is logged again.
func (f *Faults) Forget(entry string) {
	f.mu.Lock()
	delete(f.seen, entry)
	f.mu.Unlock()
}

// Warn logs msg with args on log at warning level when [Faults.Report]
// says the entry's fault is logged, adding the count of the faults of
// other entries left unlogged since the last record
// (dropped_since_last_record) when there are any.
func (f *Faults) Warn(log *slog.Logger, msg, entry, fault string, args ...any) {
	ok, missed := f.Report(entry, fault, time.Now())
	if !ok {
		return
	}
	if missed > 0 {
		args = append(args, "dropped_since_last_record", missed)
	}
	log.Warn(msg, args...)
}
