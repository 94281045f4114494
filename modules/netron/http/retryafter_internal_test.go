package http

import (
	"math"
	"testing"

	"github.com/titanframework/titan/modules/netron/protocol"
)

// A retryAfter a service gives in milliseconds becomes whole seconds,
// rounded up, for any value it may hold: never a negative header from an
// overflow, nor one from a float beyond int64.
func TestRetryAfterHeader(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
		ok   bool
	}{
		{int64(1), "1", true},
		{int64(1000), "1", true},
		{int64(1001), "2", true},
		{1500.0, "2", true},
		{int64(math.MaxInt64), "9223372036854776", true},
		{uint64(math.MaxUint64), "9007199254741", true},
		{1e300, "9007199254741", true},
		{math.NaN(), "", false},
		{math.Inf(1), "9007199254741", true},
		{int64(0), "", false},
		{int64(-5), "", false},
		{"soon", "", false},
	} {
		got, ok := retryAfter(protocol.Object{{Key: "retryAfter", Value: tt.v}})
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter %v = %q, %v; want %q, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
