package netron

import (
	"math"
	"testing"
	"time"
)

// A peer-supplied timeout too large for a time.Duration saturates: it
// must not wrap to a negative (already expired) deadline.
func TestMsDurationSaturates(t *testing.T) {
	t.Parallel()
	for _, ms := range []int64{math.MaxInt64 / int64(time.Millisecond), math.MaxInt64/int64(time.Millisecond) + 1, 1 << 62, math.MaxInt64} {
		if d := msDuration(ms); d < time.Duration(math.MaxInt64/int64(time.Millisecond))*time.Millisecond {
			t.Errorf("msDuration(%d) = %v, want a positive duration of ~292 years", ms, d)
		}
	}
	if d := msDuration(1500); d != 1500*time.Millisecond {
		t.Errorf("msDuration(1500) = %v", d)
	}
}
