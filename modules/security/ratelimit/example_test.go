package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/titanframework/titan/modules/security/ratelimit"
)

func ExampleNewLocal() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l := ratelimit.NewLocal(ratelimit.LocalOptions{Now: func() time.Time { return now }})
	for range 3 {
		d, err := l.Allow(context.Background(), "10.0.0.7", 2, time.Minute)
		fmt.Println(d.Allowed, d.Remaining, d.RetryAfter, err)
	}
	// Output:
	// true 1 0s <nil>
	// true 0 0s <nil>
	// false 0 1m30s <nil>
}
