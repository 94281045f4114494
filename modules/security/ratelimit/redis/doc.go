// Package redis is the "redis" backend of package ratelimit, on
// redis/go-redis/v9: a [Limiter] shared by every instance that names the
// same Redis server and key prefix. An app that sets
// security.rateLimit.backend: redis imports it:
//
//	import _ "github.com/titanframework/titan/modules/security/ratelimit/redis"
//
// Its init registers the backend with [ratelimit.RegisterBackend]; a
// program that does not import it does not link the Redis client.
//
// # One algorithm in both
//
// The Limiter runs the sliding-window arithmetic of [ratelimit.Local] (see
// package ratelimit) in one Lua script, window.lua, run with EVALSHA and
// sent whole with EVAL when the server lacks it. Each Allow is one round
// trip; the script reads and updates the key atomically and reads the
// server's clock (TIME), so instances with skewed clocks agree. Times are
// whole milliseconds, and the script computes the same float64
// expressions as Local, exact while n times per in milliseconds stays
// below 2^53. A test runs the script and Local on the same clock and
// checks every decision is the same, so a limit means the same in-process
// and shared.
//
// # Keys
//
// A key is a hash at prefix + ":rl:" + key, set to expire two windows
// after its last allowed call (PEXPIRE), when its windows are over.
//
// # Errors
//
// A Redis failure is returned as an error naming Redis and the operation;
// whether a call passes when Redis is down (fail-open) or is refused
// (fail-closed) is the caller's choice.
package redis
