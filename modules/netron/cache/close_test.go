package cache_test

import (
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/modules/netron/cache"
)

// TestCloseBeforeFirstUse: a cache closed before its first cacheable call
// starts no goroutine for the calls that still arrive.
func TestCloseBeforeFirstUse(t *testing.T) {
	var runs atomic.Int64
	c := cache.New(100)
	call := serve(t, c, &runs)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	before := goleak.IgnoreCurrent()
	for range 2 {
		if v, err := call("ada", "calc@1.0.0", "add", 1, 2); err != nil || v != 3 {
			t.Fatalf("add(1, 2) after Close = %v, %v", v, err)
		}
	}
	goleak.VerifyNone(t, before)
}
