package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The window: Take spends it, Grant refills it and wakes a waiting
// Acquire; Acquire ends with the context's cause or ErrReaderIdle.
func TestCredit(t *testing.T) {
	var c Credit
	c.Init(2)
	if !c.Take() || !c.Take() || c.Take() {
		t.Fatal("a window of 2 did not give exactly 2 items")
	}
	got := make(chan error, 1)
	go func() { got <- c.Acquire(context.Background(), 10*time.Second) }()
	select {
	case err := <-got:
		t.Fatalf("Acquire returned %v with the window spent", err)
	case <-time.After(50 * time.Millisecond):
	}
	c.Grant(1)
	if err := <-got; err != nil {
		t.Fatalf("Acquire after a grant: %v", err)
	}
	if err := c.Acquire(context.Background(), 20*time.Millisecond); !errors.Is(err, ErrReaderIdle) {
		t.Fatalf("Acquire with no grant = %v, want ErrReaderIdle", err)
	}
	why := errors.New("reader cancelled")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	if err := c.Acquire(ctx, time.Hour); !errors.Is(err, why) {
		t.Fatalf("Acquire on a cancelled context = %v, want its cause", err)
	}
}

// Concurrent Takes never hand out more than was granted.
func TestCreditConcurrent(t *testing.T) {
	var c Credit
	c.Init(0)
	var taken atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if c.Take() {
					taken.Add(1)
				}
			}
		}()
	}
	for range 100 {
		c.Grant(5)
	}
	wg.Wait()
	for c.Take() {
		taken.Add(1)
	}
	if taken.Load() != 500 {
		t.Fatalf("%d items taken of 500 granted", taken.Load())
	}
}

// Add refuses past the bound, even when many add at once; Remove makes
// room again.
func TestOutboundsBound(t *testing.T) {
	o := NewOutbounds[int](10)
	var added atomic.Int64
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if o.Add(uint32(g*100+i), i) {
					added.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	var filed []uint32
	for g := range 8 {
		for i := range 10 {
			if _, ok := o.Get(uint32(g*100 + i)); ok {
				filed = append(filed, uint32(g*100+i))
			}
		}
	}
	if added.Load() != 10 || len(filed) != 10 {
		t.Fatalf("%d added, %d filed; the bound is 10", added.Load(), len(filed))
	}
	if o.Add(999, 1) {
		t.Fatal("Add past the bound succeeded")
	}
	o.Remove(999) // never filed: makes no room
	if o.Add(998, 1) {
		t.Fatal("removing an id never filed made room")
	}
	o.Remove(filed[0])
	if _, ok := o.Get(filed[0]); ok || !o.Add(999, 7) {
		t.Fatal("Remove did not make room")
	}
	if v, ok := o.Get(999); !ok || v != 7 {
		t.Fatalf("Get(999) = %v, %v", v, ok)
	}
}
