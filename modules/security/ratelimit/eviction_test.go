package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func newShard(max int) *shard {
	return &shard{index: map[string]int32{}, newest: none, oldest: none, room: &room{max: int64(max)}}
}

// take is one Allow on s at now, without Local's clock and hashing.
func (s *shard) take(key string, now int64, n int, per int64) bool {
	allowed, _, _ := s.window(key, now).take(now, n, per)
	return allowed
}

func TestFullShardReplacesAKeyWhoseWindowsAreOverFirst(t *testing.T) {
	t.Parallel()
	s := newShard(3)
	s.take("hour", 0, 1, 3_600_000)
	s.take("second-1", 0, 1, 1000)
	s.take("second-2", 0, 1, 1000)
	// At 3s the one-second keys hold nothing; "hour" is the least recently
	// used but still counts its unit.
	s.take("new", 3000, 1, 1000)
	if _, ok := s.index["hour"]; !ok {
		t.Fatalf("the least recently used key went although another key's windows were over: %v", s.index)
	}
	if _, ok := s.index["second-1"]; ok {
		t.Fatalf("second-1, the oldest key whose windows are over, is still held: %v", s.index)
	}
	if s.take("hour", 3000, 1, 3_600_000) {
		t.Fatal("hour's limit was reset")
	}
}

func TestFullShardReplacesTheLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	s := newShard(3)
	s.take("a", 0, 5, 60_000)
	s.take("b", 1, 5, 60_000)
	s.take("c", 2, 5, 60_000)
	s.take("a", 3, 5, 60_000) // b is now the least recently used
	s.take("d", 4, 5, 60_000)
	if _, ok := s.index["b"]; ok || len(s.index) != 3 {
		t.Fatalf("held %v; want a, c and d", s.index)
	}
	// The recency list links every held slot once, newest first.
	var order []string
	for i := s.newest; i != none; i = s.slots[i].older {
		order = append(order, s.slots[i].key)
	}
	if got := len(order); got != 3 || order[0] != "d" || order[1] != "a" || order[2] != "c" {
		t.Fatalf("recency order %v, want [d a c]", order)
	}
}

func TestShardNeverGrowsPastMax(t *testing.T) {
	t.Parallel()
	s := newShard(5)
	for i := range 1000 {
		s.take(string(rune('A'+i%600)), int64(i), 3, 10)
		if len(s.index) > 5 || len(s.slots) > 5 || cap(s.slots) > 5 {
			t.Fatalf("after %d keys: %d indexed, %d slots (cap %d); want at most 5", i+1, len(s.index), len(s.slots), cap(s.slots))
		}
	}
}

// check fails the test unless l's shards hold together what its room
// counts, at most MaxKeys, each indexing and linking every slot once.
func (l *Local) check(t *testing.T) {
	t.Helper()
	total := 0
	for si := range l.shards {
		s := &l.shards[si]
		s.mu.Lock()
		if len(s.index) != len(s.slots) {
			t.Fatalf("shard %d: %d keys indexed, %d slots", si, len(s.index), len(s.slots))
		}
		for k, i := range s.index {
			if s.slots[i].key != k {
				t.Fatalf("shard %d: key %q indexed at slot %d, which holds %q", si, k, i, s.slots[i].key)
			}
		}
		linked := 0
		for i, newer := s.newest, int32(none); i != none; newer, i = i, s.slots[i].older {
			if s.slots[i].newer != newer {
				t.Fatalf("shard %d: slot %d links back to %d, want %d", si, i, s.slots[i].newer, newer)
			}
			linked++
		}
		if linked != len(s.slots) {
			t.Fatalf("shard %d: %d slots linked of %d", si, linked, len(s.slots))
		}
		total += len(s.slots)
		s.mu.Unlock()
	}
	if held := l.room.held.Load(); int64(total) != held || held > l.room.max {
		t.Fatalf("%d keys held, %d counted; want them equal and at most %d", total, held, l.room.max)
	}
}

// TestFullLocalTakesRoomFromAnotherShard: a new key of a shard that holds
// none, when the Local is full, replaces a key of another shard.
func TestFullLocalTakesRoomFromAnotherShard(t *testing.T) {
	t.Parallel()
	l := NewLocal(LocalOptions{MaxKeys: 4})
	if len(l.shards) < 2 {
		t.Skip("one shard")
	}
	for i := range 2000 {
		if _, err := l.Allow(t.Context(), fmt.Sprint("key-", i), 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		l.check(t)
	}
	// Concurrent callers of new keys, for the race detector and for
	// shards emptying and refilling under each other.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				_, _ = l.Allow(t.Context(), fmt.Sprint(g, "-", i), 1, time.Hour)
			}
		})
	}
	wg.Wait()
	l.check(t)
}
