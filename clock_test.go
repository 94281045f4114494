package titan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
)

// TestWithClockNil: a nil clock is an error that names the option.
// (titantest's tests show the clock driving the cache and rate limits.)
func TestWithClockNil(t *testing.T) {
	t.Parallel()
	err := titan.New(titan.WithConfig(quiet()), titan.WithClock(nil)).Err()
	if err == nil || !strings.Contains(err.Error(), "WithClock: nil clock") {
		t.Fatalf("Err() = %v, want the nil clock named", err)
	}
}

// TestWithClockTwice: a second clock is an error that names the option,
// not fx's complaint about a type provided twice.
func TestWithClockTwice(t *testing.T) {
	t.Parallel()
	err := titan.New(titan.WithConfig(quiet()), titan.WithClock(time.Now), titan.WithClock(time.Now)).Err()
	if err == nil || !strings.Contains(err.Error(), "WithClock: given twice") {
		t.Fatalf("Err() = %v, want the second WithClock named", err)
	}
}
