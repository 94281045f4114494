package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// kept holds what allocateBeforeTheCase allocated, so that it is not
// optimised away.
var kept [][]byte

//go:noinline
func allocateBeforeTheCase() {
	for range 256 {
		kept = append(kept, make([]byte, 64<<10))
	}
}

// TestRunCaseMemProfileIsThePeriods: -memprofile writes the allocations
// of the case's measured period, not those the process made before it
// (the allocs profile is cumulative since the process started).
func TestRunCaseMemProfileIsThePeriods(t *testing.T) {
	const name = "test-mem-profile"
	register(name, system{setup: func(caseSpec) (*bench, error) {
		return &bench{
			unary: func(context.Context, string) error {
				time.Sleep(2 * time.Millisecond)
				return nil
			},
			conns: 1, cleanup: func() {},
		}, nil
	}})
	defer delete(systems, name)
	allocateBeforeTheCase()
	defer func() { kept = nil }()
	prefix := t.TempDir() + "/m"
	c := caseSpec{Sys: name, Mode: "unary", Family: familyString, Payload: 32, Conc: 1}
	if r := runCase(c, 10*time.Millisecond, 50*time.Millisecond, profiles{mem: prefix}); r.Error != "" {
		t.Fatal(r.Error)
	}
	f, err := os.Open(profiles{}.file(prefix, c))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	space := -1
	for i, st := range p.SampleType {
		if st.Type == "alloc_space" {
			space = i
		}
	}
	if space < 0 {
		t.Fatalf("no alloc_space in the profile's %v", p.SampleType)
	}
	var before int64
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if strings.HasSuffix(l.Function.Name, ".allocateBeforeTheCase") {
					before += s.Value[space]
				}
			}
		}
	}
	if before != 0 {
		t.Errorf("the profile of the measured period holds %d bytes allocated before the case started", before)
	}
}

// TestNDJSONStreamRefusesAnErrorStatus: a stream answered with another
// status than 200 failed, whatever lines its body holds.
func TestNDJSONStreamRefusesAnErrorStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("\"x\"\n\"x\"\n"))
	}))
	defer srv.Close()
	n, err := ndjsonStream(context.Background(), srv.Client(), srv.URL, []any{"x", 2}, func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("a stream answered with 503 gave %d items, error %v", n, err)
	}
}
