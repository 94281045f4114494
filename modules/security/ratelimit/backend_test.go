package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/ratelimit"
)

// runs numbers the runs of the tests (go test -count) so that each
// registers backends under names of its own: a name registers once.
var runs atomic.Int64

// fresh returns name suffixed with a number no other call returned.
func fresh(name string) string { return fmt.Sprintf("%s-%d", name, runs.Add(1)) }

func TestOpenBackendNotLinkedNamesTheImport(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"memcached", "redis"} {
		l, c, err := ratelimit.OpenBackend(context.Background(), name, "", "titan")
		want := `rate-limit backend "` + name + `" is not linked into this program: add import _ "github.com/titanframework/titan/modules/security/ratelimit/` + name + `"`
		if err == nil || err.Error() != want || l != nil || c != nil {
			t.Errorf("OpenBackend(%q): %v, %v, %v; want only the error %s", name, l, c, err, want)
		}
	}
}

func TestOpenBackendMemoryIsBuiltIn(t *testing.T) {
	t.Parallel()
	_, _, err := ratelimit.OpenBackend(context.Background(), "memory", "", "titan")
	if err == nil || !strings.Contains(err.Error(), "built in") || !strings.Contains(err.Error(), "NewLocal") {
		t.Fatalf("OpenBackend(memory): %v, want an error saying it is built in", err)
	}
}

func TestOpenBackendOfARegisteredName(t *testing.T) {
	t.Parallel()
	local := ratelimit.NewLocal(ratelimit.LocalOptions{})
	var gotURL, gotPrefix string
	open := fresh("test-open")
	ratelimit.RegisterBackend(open, func(_ context.Context, url, prefix string) (ratelimit.Limiter, io.Closer, error) {
		gotURL, gotPrefix = url, prefix
		return local, io.NopCloser(nil), nil
	})
	l, c, err := ratelimit.OpenBackend(context.Background(), open, "test://x", "p")
	if err != nil || l != local || c == nil || gotURL != "test://x" || gotPrefix != "p" {
		t.Fatalf("OpenBackend: %v, %v, %v (url %q, prefix %q); want the registered backend's limiter, given the url and prefix", l, c, err, gotURL, gotPrefix)
	}
	if d, err := l.Allow(context.Background(), "k", 1, time.Second); err != nil || !d.Allowed {
		t.Fatalf("Allow: %+v, %v", d, err)
	}

	bad := errors.New("backend failed")
	fails := fresh("test-fails")
	ratelimit.RegisterBackend(fails, func(context.Context, string, string) (ratelimit.Limiter, io.Closer, error) {
		return nil, nil, bad
	})
	if _, _, err := ratelimit.OpenBackend(context.Background(), fails, "", ""); !errors.Is(err, bad) {
		t.Fatalf("OpenBackend of a failing backend: %v, want its error", err)
	}
}

func TestRegisterBackendPanics(t *testing.T) {
	t.Parallel()
	b := func(context.Context, string, string) (ratelimit.Limiter, io.Closer, error) { return nil, nil, nil }
	twice := fresh("test-twice")
	ratelimit.RegisterBackend(twice, b)
	for _, tc := range []struct {
		name string
		b    ratelimit.Backend
	}{{twice, b}, {"", b}, {"memory", b}, {fresh("test-nil"), nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterBackend(%q, %v) did not panic", tc.name, tc.b != nil)
				}
			}()
			ratelimit.RegisterBackend(tc.name, tc.b)
		}()
	}
}
