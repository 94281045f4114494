package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Backend opens a shared [Limiter] whose store is at url (empty: the
// backend's default) and whose keys start with prefix. It returns the
// limiter and what to close when the limiter is no longer used. A URL the
// backend cannot use is an error wrapping [ErrInvalidURL]. Opening need
// not contact the store; the first Allow may.
type Backend func(ctx context.Context, url, prefix string) (Limiter, io.Closer, error)

// ErrInvalidURL is wrapped by the error a [Backend] returns for a URL it
// cannot use, so that the caller can name the setting at fault.
var ErrInvalidURL = errors.New("ratelimit: invalid backend URL")

// backendPath is the import path of the packages of Titan's own
// backends, each named after its backend.
const backendPath = "github.com/titanframework/titan/modules/security/ratelimit/"

var backends = struct {
	sync.Mutex
	m map[string]Backend
}{m: map[string]Backend{}}

// RegisterBackend makes the backend name available to [OpenBackend]. It
// is meant for the init function of the backend's package, so that a
// program links a backend's client only when it imports the package. A
// name registered twice, an empty name or a nil b panics. "memory" is
// not a registered backend: it is [Local], which callers build with
// [NewLocal].
func RegisterBackend(name string, b Backend) {
	backends.Lock()
	defer backends.Unlock()
	if _, dup := backends.m[name]; dup || name == "" || name == "memory" || b == nil {
		panic(fmt.Sprintf("ratelimit.RegisterBackend(%q): a name registered twice, empty, memory, or without a Backend", name))
	}
	backends.m[name] = b
}

// OpenBackend opens the backend registered as name with url and prefix.
// A name not registered is an error naming the import that registers it
// (for "redis": github.com/titanframework/titan/modules/security/ratelimit/redis);
// "memory" is an error too, as it is built in (use [NewLocal]). Errors of
// the backend itself are returned as they are. It is safe for concurrent
// use.
func OpenBackend(ctx context.Context, name, url, prefix string) (Limiter, io.Closer, error) {
	if name == "memory" {
		return nil, nil, errors.New(`rate-limit backend "memory" is built in, not opened by name: use ratelimit.NewLocal`)
	}
	backends.Lock()
	b := backends.m[name]
	linked := slices.Sorted(maps.Keys(backends.m))
	backends.Unlock()
	if b == nil {
		if name == "" || strings.ContainsAny(name, "/. ") {
			return nil, nil, fmt.Errorf("rate-limit backend %q: no such backend (linked: %s)", name, strings.Join(append([]string{"memory"}, linked...), ", "))
		}
		return nil, nil, fmt.Errorf("rate-limit backend %q is not linked into this program: add import _ %q", name, backendPath+name)
	}
	return b(ctx, url, prefix)
}
