package logevery_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/logevery"
)

// TestFaults: an entry's fault is logged once, again when it changes, and
// again after the entry was forgotten; beyond MaxFaults entries, faults
// are spaced as a Limiter's records are, and counted.
func TestFaults(t *testing.T) {
	var f logevery.Faults
	now := time.Unix(1000, 0)
	steps := []struct {
		entry, fault string
		want         bool
	}{
		{"a", "not JSON", true},
		{"a", "not JSON", false},
		{"b", "not JSON", true},
		{"a", "no addrs", true},
		{"a", "no addrs", false},
	}
	for i, s := range steps {
		if ok, _ := f.Report(s.entry, s.fault, now); ok != s.want {
			t.Fatalf("step %d: Report(%q, %q) = %v, want %v", i, s.entry, s.fault, ok, s.want)
		}
	}
	f.Forget("a")
	if ok, _ := f.Report("a", "no addrs", now); !ok {
		t.Fatal("a fault of a forgotten entry was not logged")
	}

	for i := range logevery.MaxFaults - 2 { // a and b are remembered already
		f.Report(fmt.Sprint("fill-", i), "bad", now)
	}
	if ok, _ := f.Report("one-too-many", "bad", now); !ok {
		t.Fatal("the first fault beyond MaxFaults entries was not logged")
	}
	for i := range 5 {
		if ok, _ := f.Report(fmt.Sprint("more-", i), "bad", now.Add(time.Second)); ok {
			t.Fatalf("fault %d beyond MaxFaults, within the interval, was logged", i)
		}
	}
	ok, missed := f.Report("late", "bad", now.Add(logevery.Interval))
	if !ok || missed != 5 {
		t.Fatalf("after the interval: Report = %v, %d missed; want true, 5", ok, missed)
	}
	// Entries remembered keep their rule past MaxFaults.
	if ok, _ := f.Report("b", "not JSON", now); ok {
		t.Fatal("a remembered entry's same fault was logged again")
	}
}

// Warn logs an entry's fault once, and again when it changes, with the
// args given.
func TestFaultsWarn(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	var f logevery.Faults
	for _, fault := range []string{"bad json", "bad json", "no id", "no id"} {
		f.Warn(log, "skipping an entry", "users/a", fault, "key", "users/a", "error", fault)
	}
	want := "level=WARN msg=\"skipping an entry\" key=users/a error=\"bad json\"\n" +
		"level=WARN msg=\"skipping an entry\" key=users/a error=\"no id\"\n"
	if buf.String() != want {
		t.Fatalf("logged:\n%s\nwant:\n%s", buf.String(), want)
	}
}
