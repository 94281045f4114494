package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/ratelimit"
)

// TestLocalKeepsEveryKeyWhileNotFull: a Local holding fewer keys than
// MaxKeys forgets none of them, so that no caller's limit is reset while
// there is room for every caller (keys are spread over shards, which do
// not fill alike).
func TestLocalKeepsEveryKeyWhileNotFull(t *testing.T) {
	t.Parallel()
	for _, maxKeys := range []int{4, 64, 1000} {
		t.Run(fmt.Sprint(maxKeys), func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := ratelimit.NewLocal(ratelimit.LocalOptions{MaxKeys: maxKeys, Now: c.Now})
			ctx := context.Background()
			key := func(i int) string { return fmt.Sprintf("user-%d", i) }
			for i := range maxKeys {
				if d, err := l.Allow(ctx, key(i), 1, time.Hour); err != nil || !d.Allowed {
					t.Fatalf("first call of %s: %+v, %v; want allowed", key(i), d, err)
				}
			}
			if got := l.Len(); got != maxKeys {
				t.Errorf("%d distinct keys with MaxKeys %d: %d held, want all", maxKeys, maxKeys, got)
			}
			for i := range maxKeys {
				if d, err := l.Allow(ctx, key(i), 1, time.Hour); err != nil || d.Allowed {
					t.Fatalf("second call of %s, one of %d keys with MaxKeys %d, against 1 per hour: %+v, %v; want refused (its count was forgotten)", key(i), maxKeys, maxKeys, d, err)
				}
			}
		})
	}
}
