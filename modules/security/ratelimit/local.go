package ratelimit

import (
	"context"
	"hash/maphash"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxKeys is the number of keys a [Local] holds when
// [LocalOptions.MaxKeys] is not set.
const DefaultMaxKeys = 100_000

// LocalOptions configures [NewLocal].
type LocalOptions struct {
	// MaxKeys bounds the keys held; zero or negative means DefaultMaxKeys.
	MaxKeys int
	// Now reads the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Local is the in-process [Limiter]. It is safe for concurrent use: keys
// are spread over shards, each behind its own mutex, so callers of
// different keys rarely wait for each other. Allow of a key already held
// does not allocate. It holds at most MaxKeys keys, and forgets none
// while it holds fewer (see the package documentation for which key a
// new one replaces). Allow ignores its context and never returns an error
// for a valid n and per.
type Local struct {
	now    func() time.Time
	seed   maphash.Seed
	mask   uint64
	shards []shard
	room   room
}

var _ Limiter = (*Local)(nil)

// NewLocal returns an in-process limiter configured by opts.
func NewLocal(opts LocalOptions) *Local {
	maxKeys := opts.MaxKeys
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	// Four shards per processor, rounded up to a power of two, at most
	// 256, and no more shards than keys.
	count := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1))
	count = min(count, 256)
	for count > maxKeys {
		count /= 2
	}
	l := &Local{now: now, seed: maphash.MakeSeed(), mask: uint64(count - 1), shards: make([]shard, count)}
	l.room.max = int64(maxKeys)
	for i := range l.shards {
		s := &l.shards[i]
		s.room = &l.room
		s.index = make(map[string]int32)
		s.newest, s.oldest = none, none
	}
	return l
}

// Allow takes one unit for key from a limit of n per per.
func (l *Local) Allow(_ context.Context, key string, n int, per time.Duration) (Decision, error) {
	perMS, err := CheckLimit(n, per)
	if err != nil {
		return Decision{}, err
	}
	now := l.now().UnixMilli()
	i := maphash.String(l.seed, key) & l.mask
	s := &l.shards[i]
	s.mu.Lock()
	w := s.window(key, now)
	for w == nil { // l is full and s holds no key to replace
		s.mu.Unlock()
		l.forgetOne(int(i), now)
		s.mu.Lock()
		w = s.window(key, now)
	}
	allowed, remaining, wait := w.take(now, n, perMS)
	s.mu.Unlock()
	return NewDecision(allowed, remaining, wait), nil
}

// Len returns the number of keys held, at most MaxKeys.
func (l *Local) Len() int {
	total := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		total += len(s.index)
		s.mu.Unlock()
	}
	return total
}

// forgetOne makes room for a key of shard i, which holds none while the
// others hold MaxKeys: it removes, from the first of the other shards
// that holds a key, the key that a new key of that shard would replace.
// It holds one shard's mutex at a time.
func (l *Local) forgetOne(i int, now int64) {
	for d := 1; d < len(l.shards); d++ {
		s := &l.shards[(i+d)%len(l.shards)]
		s.mu.Lock()
		if len(s.slots) > 0 {
			s.remove(s.victim(now))
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// room counts the keys a Local's shards hold together, at most max: a
// shard takes a place for a new key while there is one, so that keys
// spread unevenly over the shards are all kept until the Local is full.
type room struct {
	held atomic.Int64
	max  int64
}

// take takes a place for a new key; it reports false when all max are
// taken.
func (r *room) take() bool {
	for {
		held := r.held.Load()
		if held >= r.max {
			return false
		}
		if r.held.CompareAndSwap(held, held+1) {
			return true
		}
	}
}

// none is the slot index of no slot.
const none = -1

// scanOver is how many slots, from the least recently used, a full shard
// looks at for one whose windows are over before it replaces the least
// recently used.
const scanOver = 8

// shard holds some of a Local's keys: an index from key to slot, and the
// slots linked from the most to the least recently used.
type shard struct {
	mu             sync.Mutex
	index          map[string]int32
	slots          []slot
	newest, oldest int32
	room           *room    // shared by the Local's shards
	_              [64]byte // keeps neighbouring shards' mutexes off one cache line
}

// slot is one key's window and its place in the shard's recency list.
type slot struct {
	key          string
	w            window
	newer, older int32
}

// window returns key's window, moved to the front of the recency list; a
// key not held gets a slot whose window is zero, replacing another key of
// the shard when the Local is full. It returns nil when the Local is full
// and the shard holds no key to replace.
func (s *shard) window(key string, now int64) *window {
	i, ok := s.index[key]
	if ok {
		if i != s.newest {
			s.unlink(i)
			s.pushNewest(i)
		}
		return &s.slots[i].w
	}
	switch {
	case s.room.take():
		if len(s.slots) == cap(s.slots) {
			// Grow by doubling, as append would, but never past MaxKeys.
			grown := make([]slot, len(s.slots), min(max(2*cap(s.slots), 16), int(s.room.max)))
			copy(grown, s.slots)
			s.slots = grown
		}
		i = int32(len(s.slots))
		s.slots = s.slots[:i+1]
	case len(s.slots) > 0:
		i = s.victim(now)
		delete(s.index, s.slots[i].key)
		s.unlink(i)
	default:
		return nil
	}
	// A copy, so that a key cut from a larger string does not keep it.
	key = strings.Clone(key)
	s.slots[i] = slot{key: key}
	s.index[key] = i
	s.pushNewest(i)
	return &s.slots[i].w
}

// victim picks the slot a new key replaces in a full shard: among the
// scanOver least recently used, the oldest whose windows are over, else
// the least recently used.
func (s *shard) victim(now int64) int32 {
	i := s.oldest
	for range scanOver {
		if i == none {
			break
		}
		if s.slots[i].w.over(now) {
			return i
		}
		i = s.slots[i].newer
	}
	return s.oldest
}

// remove forgets the key of slot i, moving the last slot into its place.
func (s *shard) remove(i int32) {
	delete(s.index, s.slots[i].key)
	s.unlink(i)
	last := int32(len(s.slots) - 1)
	if i != last {
		s.slots[i] = s.slots[last]
		sl := &s.slots[i]
		if sl.newer != none {
			s.slots[sl.newer].older = i
		} else {
			s.newest = i
		}
		if sl.older != none {
			s.slots[sl.older].newer = i
		} else {
			s.oldest = i
		}
		s.index[sl.key] = i
	}
	s.slots[last] = slot{}
	s.slots = s.slots[:last]
	s.room.held.Add(-1)
}

func (s *shard) unlink(i int32) {
	sl := &s.slots[i]
	if sl.newer != none {
		s.slots[sl.newer].older = sl.older
	} else {
		s.newest = sl.older
	}
	if sl.older != none {
		s.slots[sl.older].newer = sl.newer
	} else {
		s.oldest = sl.newer
	}
	sl.newer, sl.older = none, none
}

func (s *shard) pushNewest(i int32) {
	sl := &s.slots[i]
	sl.newer, sl.older = none, s.newest
	if s.newest != none {
		s.slots[s.newest].newer = i
	} else {
		s.oldest = i
	}
	s.newest = i
}
