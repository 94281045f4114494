package titan_test

import (
	"strings"
	"testing"

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
