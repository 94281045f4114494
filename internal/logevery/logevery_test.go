package logevery_test

import (
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/logevery"
)

func TestLimiterSpacesRecords(t *testing.T) {
	var l logevery.Limiter
	t0 := time.Unix(1000, 0)
	if ok, missed := l.Allow(t0); !ok || missed != 0 {
		t.Fatalf("first occurrence: %v, %d", ok, missed)
	}
	for i := range 5 {
		if ok, _ := l.Allow(t0.Add(time.Duration(i+1) * time.Second)); ok {
			t.Fatalf("occurrence %d within the interval was logged", i+2)
		}
	}
	if ok, missed := l.Allow(t0.Add(logevery.Interval)); !ok || missed != 5 {
		t.Fatalf("after the interval: %v, %d missed; want true, 5", ok, missed)
	}
	l.Allow(t0.Add(logevery.Interval + time.Second))
	if got := l.End(); got != 1 {
		t.Fatalf("End = %d, want 1", got)
	}
	if got := l.End(); got != 0 {
		t.Fatalf("second End = %d, want 0", got)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	var l logevery.Limiter
	var wg sync.WaitGroup
	var mu sync.Mutex
	logged, now := 0, time.Now()
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if ok, _ := l.Allow(now); ok {
					mu.Lock()
					logged++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if logged != 1 || l.End() != 7999 {
		t.Fatalf("%d records for 8000 occurrences at once; want 1 and 7999 counted", logged)
	}
}
