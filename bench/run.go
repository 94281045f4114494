package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
)

// system is one RPC stack under test.
type system struct {
	// setup starts a server and a client in this process and returns the
	// functions the callers use, and a cleanup.
	setup func(c caseSpec) (*bench, error)
	note  string
}

// bench is a running server and client.
type bench struct {
	// unary echoes payload once.
	unary func(ctx context.Context, payload string) error
	// stream asks for n messages of payload and returns how many arrived.
	stream func(ctx context.Context, payload string, n int) (int, error)
	// conns is the number of client connections used.
	conns   int
	cleanup func()
}

var systems = map[string]system{}

func register(name string, s system) { systems[name] = s }

func systemNames() []string {
	var out []string
	for n := range systems {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// streamLen is the number of messages one stream call asks for.
const streamLen = 100

// profiles names the profiles to write of a case's measured period
// (prefixes; "" for none).
type profiles struct{ cpu, mem, trace string }

func (p profiles) file(prefix string, c caseSpec) string {
	return fmt.Sprintf("%s-%s-%s-%s-%d-c%d.pprof", prefix, c.Sys, c.Mode, c.Family, c.Payload, c.Conc)
}

// runCase measures one case in this process.
func runCase(c caseSpec, warmup, duration time.Duration, prof profiles) result {
	r := result{caseSpec: c}
	sys := systems[c.Sys]
	b, err := sys.setup(c)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer b.cleanup()
	r.Conns, r.Note = b.conns, sys.note
	if (c.Mode == "stream" && b.stream == nil) || (c.Mode == "unary" && b.unary == nil) {
		r.Unsupport = true
		return r
	}
	payload := strings.Repeat("x", c.Payload)
	if structured(c.Family) {
		payload = opaquePayload(c.Family) // for the systems that carry bytes only
	}

	var (
		stop     atomic.Bool
		measure  atomic.Bool
		ops      atomic.Int64
		failures atomic.Int64
		failedIn atomic.Int64 // failures during the measured period
		firstErr atomic.Value
		mu       sync.Mutex
		lat      []float64
		wg       sync.WaitGroup
	)
	ctx := context.Background()
	for range c.Conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]float64, 0, 4096)
			for !stop.Load() {
				start := time.Now()
				var n int
				var err error
				if c.Mode == "unary" {
					err, n = b.unary(ctx, payload), 1
				} else {
					n, err = b.stream(ctx, payload, streamLen)
					if err == nil && n != streamLen {
						// A stream that ends early gave a wrong answer.
						err = fmt.Errorf("stream ended after %d of %d messages", n, streamLen)
					}
				}
				if err != nil {
					failures.Add(1)
					if measure.Load() {
						failedIn.Add(1)
					}
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				if measure.Load() {
					ops.Add(int64(n))
					local = append(local, float64(time.Since(start).Nanoseconds())/1e3)
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	time.Sleep(warmup)
	// The allocation profile is cumulative since the process started:
	// the period's is what it gained from here to the period's end.
	var mem0 []byte
	if prof.mem != "" {
		runtime.MemProfileRate = 64 << 10 / 8 // finer than the default, still cheap
		mem0 = allocProfile()
	} else {
		runtime.GC()
	}
	var cpuOut *os.File
	if prof.cpu != "" {
		f, err := os.Create(prof.file(prof.cpu, c))
		if err == nil && pprof.StartCPUProfile(f) == nil {
			cpuOut = f
		}
	}
	var traceOut *os.File
	if prof.trace != "" {
		f, err := os.Create(strings.TrimSuffix(prof.file(prof.trace, c), ".pprof") + ".trace")
		if err == nil && trace.Start(f) == nil {
			traceOut = f
		}
	}
	// The period's figures start after the profiles have: starting them
	// is no part of what the calls cost.
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	t0 := time.Now()
	measure.Store(true)
	time.Sleep(duration)
	measure.Store(false)
	// And end before the profiles are stopped and written.
	elapsed := time.Since(t0)
	cpu1 := cpuTime()
	runtime.ReadMemStats(&ms1)
	if traceOut != nil {
		trace.Stop()
		traceOut.Close()
	}
	if cpuOut != nil {
		pprof.StopCPUProfile()
		cpuOut.Close()
	}
	if mem0 != nil {
		writeAllocDelta(prof.file(prof.mem, c), mem0, t0, elapsed)
	}
	stop.Store(true)
	wg.Wait()

	n := ops.Load()
	if n == 0 {
		r.Error = fmt.Sprintf("no operation completed (%d failures: %v)", failures.Load(), firstErr.Load())
		return r
	}
	if f := failedIn.Load(); f > 0 {
		// A row is never printed with calls that failed while it was
		// measured: the table has no room for a note.
		r.Error = fmt.Sprintf("%d calls failed during the measured period (%v)", f, firstErr.Load())
		return r
	}
	if f := failures.Load(); f > 0 {
		r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" %d failed calls (%v)", f, firstErr.Load()))
	}
	r.Ops = n
	r.PerSec = float64(n) / elapsed.Seconds()
	r.Allocs = float64(ms1.Mallocs-ms0.Mallocs) / float64(n)
	r.Bytes = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(n)
	r.CPU = float64((cpu1 - cpu0).Microseconds()) / float64(n)
	sort.Float64s(lat)
	pct := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	r.P50, r.P99, r.P999 = pct(0.50), pct(0.99), pct(0.999)
	return r
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// payloadBytes returns payload as a []byte made once per payload, which
// callers only read. The clients of the bytes family send what a caller of
// a []byte method holds, a []byte, instead of converting their string
// payload on every call: that conversion cost every row one allocation
// and copy of the payload per message on the bench's side of the call,
// not in any system.
func payloadBytes(payload string) []byte {
	if p := lastPayload.Load(); p != nil && p.s == payload {
		return p.b
	}
	p := &payloadBuf{s: payload, b: []byte(payload)}
	lastPayload.Store(p)
	return p.b
}

type payloadBuf struct {
	s string
	b []byte
}

var lastPayload atomic.Pointer[payloadBuf]

// echoed checks that a reply holds exactly the payload: every row's
// replies are content-checked, so no system is measured on answers it did
// not really give.
func echoed[B ~[]byte | ~string](got B, want string) error {
	if string(got) != want {
		return fmt.Errorf("bad answer: %d bytes that are not the %d-byte payload", len(got), len(want))
	}
	return nil
}

// allocProfile returns the allocation profile of the process so far,
// encoded, after a GC: the runtime publishes allocations at the end of a
// cycle. nil when it cannot be written.
func allocProfile() []byte {
	runtime.GC()
	var buf bytes.Buffer
	if pprof.Lookup("allocs").WriteTo(&buf, 0) != nil {
		return nil
	}
	return buf.Bytes()
}

// writeAllocDelta writes to file the allocations made since the profile
// before was taken (at start, for d): the allocs profile now less before.
func writeAllocDelta(file string, before []byte, start time.Time, d time.Duration) {
	after := allocProfile()
	if after == nil {
		return
	}
	p0, err := profile.ParseData(before)
	if err != nil {
		return
	}
	p1, err := profile.ParseData(after)
	if err != nil {
		return
	}
	p0.Scale(-1)
	delta, err := profile.Merge([]*profile.Profile{p0, p1})
	if err != nil {
		return
	}
	delta.TimeNanos, delta.DurationNanos = start.UnixNano(), d.Nanoseconds()
	if f, err := os.Create(file); err == nil {
		_ = delta.Write(f)
		f.Close()
	}
}
