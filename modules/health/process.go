package health

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The checks about the process itself: liveness checks, not critical
// unless the caller makes them so.

// Memory checks the memory the Go runtime holds from the system (what
// GOMEMLIMIT limits: every memory class but the heap released to the
// system) against limit bytes. limit <= 0 means the process's memory
// limit (GOMEMLIMIT, debug.SetMemoryLimit) when one is set; without
// either the check always passes.
func Memory(limit int64) Check {
	return Check{Name: "memory", Liveness: true, Run: func(context.Context) error {
		max := limit
		if max <= 0 {
			if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
				max = l
			}
		}
		if max <= 0 {
			return nil
		}
		s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(s)
		used := int64(s[0].Value.Uint64() - s[1].Value.Uint64())
		if used > max {
			return fmt.Errorf("%s in use, over the ceiling of %s", mib(used), mib(max))
		}
		return nil
	}}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Goroutines checks the number of goroutines against max (<= 0: no
// ceiling): a number that only grows is a leak.
func Goroutines(max int) Check {
	return Check{Name: "goroutines", Liveness: true, Run: func(context.Context) error {
		if n := runtime.NumGoroutine(); max > 0 && n > max {
			return fmt.Errorf("%d goroutines, over the ceiling of %d", n, max)
		}
		return nil
	}}
}

// SchedulerLatency checks how long goroutines waited to run: the 99th
// percentile of the scheduler's latencies since the check last ran (since
// the process started, the first time) must not exceed max (<= 0: no
// ceiling). It is the Go counterpart of an event-loop lag check: a
// process whose goroutines wait for a CPU answers late whatever it does.
func SchedulerLatency(max time.Duration) Check {
	var mu sync.Mutex
	var prev []uint64
	return Check{Name: "scheduler", Liveness: true, Run: func(context.Context) error {
		s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindFloat64Histogram {
			return nil // not reported by this runtime
		}
		h := s[0].Value.Float64Histogram()
		mu.Lock()
		window := make([]uint64, len(h.Counts))
		for i, c := range h.Counts {
			window[i] = c
			if i < len(prev) {
				window[i] -= prev[i]
			}
		}
		prev = h.Counts
		mu.Unlock()
		p99, ok := quantile(window, h.Buckets, 0.99)
		if ok && max > 0 && p99 > max {
			return fmt.Errorf("goroutines waited up to %v to run (99th percentile), over the ceiling of %v", p99, max)
		}
		return nil
	}}
}

// quantile returns the lower bound of the bucket holding the q quantile of
// a histogram of counts over buckets (len(counts)+1 boundaries, seconds);
// false when it holds nothing.
func quantile(counts []uint64, buckets []float64, q float64) (time.Duration, bool) {
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			lo := buckets[i]
			if math.IsInf(lo, -1) {
				lo = 0
			}
			return time.Duration(lo * float64(time.Second)), true
		}
	}
	return 0, false
}
