package contract

import (
	"reflect"
	"testing"
	"time"
)

type stamped struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

// TestTypedTimeAllocates: proving a page of results with a time.Time
// field allocates nothing, as for the User of TestTypedProvesAndRefuses.
func TestTypedTimeAllocates(t *testing.T) {
	p := compileBoth(t, mustDerive[[]stamped]())
	tc := p.checker.ForType(reflect.TypeFor[[]stamped]())
	if tc == nil {
		t.Fatal("not compiled")
	}
	var page any = []stamped{{Name: "a", At: time.Now()}, {Name: "b"}, {Name: "c", At: time.Now()}}
	if !tc.Valid(page) {
		t.Fatal("not proven")
	}
	if n := testing.AllocsPerRun(100, func() { tc.Valid(page) }); n != 0 && !raceEnabled {
		t.Errorf("Typed.Valid allocates %v times per page of 3, want 0", n)
	}
}
