package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/redisopts"
	"github.com/titanframework/titan/modules/security/ratelimit"
)

func init() { ratelimit.RegisterBackend("redis", open) }

// DefaultURL is the Redis server of the backend when its URL is empty.
const DefaultURL = "redis://127.0.0.1:6379/0"

// open is the "redis" [ratelimit.Backend]: a client of the server at url
// (redis://[user:pass@]host:port/db, default [DefaultURL]) whose dials,
// reads, writes and waits for a pooled connection time out after a
// second, which retries a command once (a pooled connection may have gone
// stale when Redis restarted) and a dial never, so that a Redis out of
// reach delays a call by about a second at most (with go-redis's defaults,
// three retries of the command and five of each dial, a Redis refusing
// connections delayed each call by 1.7 s). A bound the URL sets
// (dial_timeout, read_timeout, write_timeout, pool_timeout, max_retries)
// is kept. It does not contact the server.
func open(_ context.Context, url, prefix string) (ratelimit.Limiter, io.Closer, error) {
	if url == "" {
		url = DefaultURL
	}
	opts, err := redisopts.Parse(url)
	if err != nil {
		if ue, ok := errors.AsType[*neturl.Error](err); ok {
			err = ue.Err // it quotes the URL again, password included
		}
		return nil, nil, fmt.Errorf("%w %q: %w", ratelimit.ErrInvalidURL, redacted(url), err)
	}
	c := goredis.NewClient(opts)
	return New(c, prefix), c, nil
}

// redacted is raw with its password, if any, replaced by "xxxxx", as
// [neturl.URL.Redacted] writes it, also when raw does not parse: the
// userinfo is what precedes the last "@" of the authority.
func redacted(raw string) string {
	if u, err := neturl.Parse(raw); err == nil {
		return u.Redacted()
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return raw
	}
	return scheme + "://" + user + ":xxxxx" + authority[at:] + path
}

//go:embed window.lua
var windowLua string

// windowScript is window.lua, run with EVALSHA and sent with EVAL when the
// server does not hold it.
var windowScript = goredis.NewScript(windowLua)

// Limiter is the [ratelimit.Limiter] shared by every instance using the
// same Redis server and prefix. Each Allow is one round trip running one
// Lua script that reads and updates the key atomically, on the server's
// clock. It is safe for concurrent use.
type Limiter struct {
	c      goredis.UniversalClient
	prefix string
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a limiter keeping its keys in c at prefix + ":rl:" + key. It
// does not contact the server; the first Allow does. The caller owns c
// and closes it.
func New(c goredis.UniversalClient, prefix string) *Limiter {
	return &Limiter{c: c, prefix: prefix}
}

// Allow takes one unit for key from a limit of n per per. A Redis failure,
// including ctx ending, is returned as an error; the Decision is then
// zero, and the caller chooses whether the call passes. An invalid n or
// per is an error wrapping [ratelimit.ErrInvalidLimit].
func (r *Limiter) Allow(ctx context.Context, key string, n int, per time.Duration) (ratelimit.Decision, error) {
	perMS, err := ratelimit.CheckLimit(n, per)
	if err != nil {
		return ratelimit.Decision{}, err
	}
	if r.c == nil {
		return ratelimit.Decision{}, errors.New("ratelimit: redis limiter has no client")
	}
	res, err := windowScript.Run(ctx, r.c, []string{r.prefix + ":rl:" + key},
		strconv.Itoa(n), strconv.FormatInt(perMS, 10), strconv.FormatInt(2*perMS, 10)).Int64Slice()
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit: redis EVALSHA of the rate-limit script (prefix %q): %w", r.prefix, err)
	}
	if len(res) != 3 {
		return ratelimit.Decision{}, fmt.Errorf("ratelimit: redis EVALSHA of the rate-limit script (prefix %q): got %d values, want 3", r.prefix, len(res))
	}
	return ratelimit.NewDecision(res[0] == 1, res[1], res[2]), nil
}
