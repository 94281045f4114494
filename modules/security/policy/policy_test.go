package policy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/policy"
)

// A rate limit whose calls times window, in milliseconds, reaches 2^53 is
// refused when it is configured: the limiters' float64 arithmetic would
// lose count of it.
func TestRateLimitBeyondExactArithmetic(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		per  time.Duration
		want string // "" when valid
	}{
		{100, time.Minute, ""},
		{1<<53 - 1, time.Millisecond, ""},
		{(1<<53 - 1) / 3_600_000, time.Hour, ""},
		{1 << 53, time.Millisecond, "RateLimit(9007199254740992, 1ms): 9007199254740992 calls times 1 ms of window reach 2^53"},
		{(1<<53-1)/3_600_000 + 1, time.Hour, "RateLimit(2501999793, 1h0m0s): 2501999793 calls times 3600000 ms of window reach 2^53"},
		{1 << 62, 1000 * time.Hour, "RateLimit(4611686018427387904, 1000h0m0s): 4611686018427387904 calls times 3600000000 ms of window reach 2^53"},
	} {
		r := &policy.RateLimit{N: tc.n, Per: tc.per}
		err := r.Check()
		if err != nil { // as titan.RateLimit reports it at start-up
			err = fmt.Errorf("%v: %w", r, err)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v, want it accepted", r, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want an error saying %q", r, err, tc.want)
		}
	}
}
