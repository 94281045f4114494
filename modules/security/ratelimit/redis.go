package ratelimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

//go:embed window.lua
var windowLua string

// windowScript is window.lua, run with EVALSHA and sent with EVAL when the
// server does not hold it.
var windowScript = goredis.NewScript(windowLua)

// Redis is the [Limiter] shared by every instance using the same Redis
// server and prefix. Each Allow is one round trip running one Lua script
// that reads and updates the key atomically, on the server's clock. It is
// safe for concurrent use.
type Redis struct {
	c      goredis.UniversalClient
	prefix string
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter keeping its keys in c at prefix + ":rl:" +
// key. It does not contact the server; the first Allow does. The caller
// owns c and closes it.
func NewRedis(c goredis.UniversalClient, prefix string) *Redis {
	return &Redis{c: c, prefix: prefix}
}

// Allow takes one unit for key from a limit of n per per. A Redis failure,
// including ctx ending, is returned as an error; the Decision is then
// zero, and the caller chooses whether the call passes.
func (r *Redis) Allow(ctx context.Context, key string, n int, per time.Duration) (Decision, error) {
	perMS, err := checkLimit(n, per)
	if err != nil {
		return Decision{}, err
	}
	if r.c == nil {
		return Decision{}, errors.New("ratelimit: redis limiter has no client")
	}
	res, err := windowScript.Run(ctx, r.c, []string{r.prefix + ":rl:" + key},
		strconv.Itoa(n), strconv.FormatInt(perMS, 10), strconv.FormatInt(2*perMS, 10)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis EVALSHA of the rate-limit script (prefix %q): %w", r.prefix, err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis EVALSHA of the rate-limit script (prefix %q): got %d values, want 3", r.prefix, len(res))
	}
	return decision(res[0] == 1, res[1], res[2]), nil
}
