package main

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRunCaseRefusesShortStreams: a stream asks for streamLen messages;
// one that ends early without an error is a wrong answer, not a shorter
// stream to count (its latency would be that of a part of a stream).
func TestRunCaseRefusesShortStreams(t *testing.T) {
	const name = "test-short-stream"
	register(name, system{setup: func(caseSpec) (*bench, error) {
		return &bench{
			stream: func(_ context.Context, payload string, n int) (int, error) {
				return n / 2, nil // ends halfway, every item it gave right
			},
			conns: 1, cleanup: func() {},
		}, nil
	}})
	defer delete(systems, name)
	r := runCase(caseSpec{Sys: name, Mode: "stream", Family: familyString, Payload: 32, Conc: 1}, 10*time.Millisecond, 20*time.Millisecond, profiles{})
	if r.Error == "" {
		t.Fatalf("a system whose streams end halfway was measured: %d messages, %.0f/s, note %q", r.Ops, r.PerSec, r.Note)
	}
	if !strings.Contains(r.Error, "50 of 100") {
		t.Errorf("error %q does not say how short the stream was", r.Error)
	}
}

// TestRunCaseProfilesOutsideTheMeasure: allocs/op and B/op are
// runtime.MemStats over the measured period (README); starting the
// -cpuprofile and -trace, and stopping and writing them and the
// -memprofile, must not be charged to the calls.
func TestRunCaseProfilesOutsideTheMeasure(t *testing.T) {
	const name = "test-no-alloc"
	register(name, system{setup: func(caseSpec) (*bench, error) {
		return &bench{
			unary: func(context.Context, string) error {
				time.Sleep(2 * time.Millisecond) // a few calls, none allocating
				return nil
			},
			conns: 1, cleanup: func() {},
		}, nil
	}})
	defer delete(systems, name)
	prefix := t.TempDir() + "/"
	r := runCase(caseSpec{Sys: name, Mode: "unary", Family: familyString, Payload: 32, Conc: 1}, 10*time.Millisecond, 50*time.Millisecond, profiles{mem: prefix + "m", cpu: prefix + "c", trace: prefix + "t"})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	if r.Bytes > 512 {
		t.Fatalf("%.0f B/op and %.1f allocs/op over %d calls that allocate nothing: the profiles' start or writing was counted", r.Bytes, r.Allocs, r.Ops)
	}
}

// TestRunCaseFailedCallsAreNotMeasured: a row whose calls failed during
// the measured period is not printed as a measurement: the table shows
// no note, so its figures would pass for a clean run's.
func TestRunCaseFailedCallsAreNotMeasured(t *testing.T) {
	const name = "test-some-fail"
	var calls atomic.Int64
	register(name, system{setup: func(caseSpec) (*bench, error) {
		return &bench{
			unary: func(context.Context, string) error {
				if calls.Add(1)%10 == 0 {
					return errors.New("the tenth call fails")
				}
				return nil
			},
			conns: 1, cleanup: func() {},
		}, nil
	}})
	defer delete(systems, name)
	r := runCase(caseSpec{Sys: name, Mode: "unary", Family: familyString, Payload: 32, Conc: 1}, 10*time.Millisecond, 20*time.Millisecond, profiles{})
	if r.Error == "" {
		t.Fatalf("a row whose every tenth call failed was measured: %.0f/s, note %q", r.PerSec, r.Note)
	}
	if !strings.Contains(r.Error, "the tenth call fails") {
		t.Errorf("error %q does not give the calls' error", r.Error)
	}
}
