package main

import (
	"strings"
	"testing"
)

// TestMedianKeepsAFailedRun: with -repeat, a run that failed is not
// dropped for the median of the others: the case reports the failure.
func TestMedianKeepsAFailedRun(t *testing.T) {
	c := caseSpec{Sys: "grpc", Mode: "unary", Family: familyString, Payload: 32, Conc: 64}
	runs := []result{
		{caseSpec: c, Ops: 1000, PerSec: 50000},
		{caseSpec: c, Error: "12 calls failed during the measured period (unavailable)"},
		{caseSpec: c, Ops: 1100, PerSec: 55000},
	}
	r := median(runs)
	if !strings.Contains(r.Error, "12 calls failed") {
		t.Fatalf("median of runs, one failed = %.0f/s, error %q; want the failure reported", r.PerSec, r.Error)
	}
}
