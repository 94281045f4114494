package http_test

import (
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	"github.com/titanframework/titan/modules/netron/validate"
)

// appFeatures are the interceptors a titan app installs innermost: the
// response cache, then contract validation. The engine installs none, so
// the servers of these tests, which stand for an app's, take them.
func appFeatures(tb testing.TB) netron.Option {
	rc := cache.New(0)
	tb.Cleanup(func() { _ = rc.Close() })
	return netron.WithInterceptors(rc, validate.New(nil))
}
