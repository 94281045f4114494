package security

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

// hostN is the Nth of many distinct IPv4 addresses.
func hostN(i int) string {
	return "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
}

// A flood of failures from ever new addresses keeps the table at
// failuresMax windows, dropping the ones that began first; the recent
// ones still block, and a window that is over is forgotten.
func TestFailuresFlood(t *testing.T) {
	t.Parallel()
	var f failures
	start := time.Unix(1_700_000_000, 0)
	const extra = 25_000
	for i := range failuresMax + extra {
		at := start.Add(time.Duration(i) * time.Microsecond)
		f.add(hostN(i), at)
		f.add(hostN(i), at) // a second failure of the same window
	}
	if len(f.m) != failuresMax {
		t.Fatalf("%d windows in the table, want %d", len(f.m), failuresMax)
	}
	if q := len(f.order) - f.head; q != failuresMax {
		t.Fatalf("%d windows queued, want %d: the queue holds what the table holds", q, failuresMax)
	}
	if cap(f.order) > 4*failuresMax {
		t.Fatalf("the queue's storage grew to %d entries for %d windows", cap(f.order), failuresMax)
	}
	now := start.Add(time.Second)
	for _, i := range []int{0, extra - 1} {
		if _, ok := f.m[hostN(i)]; ok {
			t.Fatalf("the window of %s, among the first, is still in the full table", hostN(i))
		}
	}
	for _, i := range []int{extra, failuresMax + extra - 1} {
		if w := f.m[hostN(i)]; w == nil || w.n != 2 {
			t.Fatalf("the window of %s is %+v, want 2 failures", hostN(i), w)
		}
		if wait, blocked := f.blocked(hostN(i), 2, now); !blocked || wait <= 0 || wait > time.Minute {
			t.Fatalf("%s after 2 failures of 2: blocked %v, wait %v", hostN(i), blocked, wait)
		}
		if _, blocked := f.blocked(hostN(i), 3, now); blocked {
			t.Fatalf("%s after 2 failures of 3 is blocked", hostN(i))
		}
	}
	// A minute on, every window is over: the next failure starts the
	// only window left.
	later := start.Add(2 * time.Minute)
	if _, blocked := f.blocked(hostN(extra), 2, later); blocked {
		t.Fatal("blocked by a window that is over")
	}
	f.add(hostN(extra), later)
	if len(f.m) != 1 || f.m[hostN(extra)].n != 1 || len(f.order)-f.head != 1 {
		t.Fatalf("after every window is over: %d windows, %d queued, want 1 and 1", len(f.m), len(f.order)-f.head)
	}
}

// A client that keeps failing, once a window, leaves one window behind,
// not one per minute it has been failing.
func TestFailuresWindowsRestart(t *testing.T) {
	t.Parallel()
	var f failures
	at := time.Unix(1_700_000_000, 0)
	for range 5000 {
		f.add("10.0.0.1", at)
		f.add("10.0.0.2", at)
		at = at.Add(61 * time.Second)
	}
	if len(f.m) != 2 || len(f.order)-f.head != 2 || cap(f.order) > 4096 {
		t.Fatalf("%d windows, %d queued (storage %d), want 2 and 2", len(f.m), len(f.order)-f.head, cap(f.order))
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ addr, want string }{
		{"tcp://192.0.2.7:4000", "192.0.2.7"},
		{"192.0.2.7:4000", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:4000", "192.0.2.7"},
		{"ws://[2001:db8:1:2:3:4:5:6]:443/netron", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:80", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:80", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:80", "fe80::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"unix:///run/app.sock", "/run/app.sock"},
		{"in-process", "in-process"},
	} {
		if got := clientKey(c.addr); got != c.want {
			t.Errorf("clientKey(%q) = %q, want %q", c.addr, got, c.want)
		}
	}
}

// BenchmarkFailuresFlood: failed authentications from ever new addresses
// with the table full, as from a client that rotates its address.
func BenchmarkFailuresFlood(b *testing.B) {
	var f failures
	now := time.Unix(1_700_000_000, 0)
	for i := range failuresMax {
		f.add(hostN(i), now)
	}
	hosts := make([]string, 1<<16)
	for i := range hosts {
		hosts[i] = hostN(failuresMax + i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		f.add(hosts[i&(len(hosts)-1)], now)
		i++
	}
}

// blocked reports whether key has used up max failures in its current
// window, and how long until the window ends.
func (f *failures) blocked(key string, max int, now time.Time) (time.Duration, bool) {
	if max < 0 {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, wait := f.used(key, now)
	return wait, n >= max
}

// An attempt over the failures left waits for a running one, and gives up
// when its context ends; one that fails counts, and the next is refused.
func TestAttemptWaits(t *testing.T) {
	t.Parallel()
	var f failures
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	end, _, blocked, err := f.attempt(context.Background(), "10.0.0.1", 1, now)
	if err != nil || blocked {
		t.Fatalf("first attempt: blocked %v, %v", blocked, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, _, err := f.attempt(ctx, "10.0.0.1", 1, now); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second attempt while the first runs, max 1: %v, want it to wait until its deadline", err)
	}
	got := make(chan bool)
	go func() {
		_, _, blocked, _ := f.attempt(context.Background(), "10.0.0.1", 1, now)
		got <- blocked
	}()
	end(true)
	if !<-got {
		t.Fatal("the attempt waiting for a failed one was not refused")
	}
	if len(f.running) != 0 {
		t.Fatalf("%d clients still counted running", len(f.running))
	}
}
