// Package ratelimit holds the sliding-window rate limiters behind
// titan.RateLimit(n, per): [Local], in the process, and [Redis], shared by
// every instance that names the same Redis server and key prefix. Both
// implement [Limiter]; each Allow takes one unit for a key (the caller's
// identity, else the peer's address — the caller of this package chooses)
// from a limit of n per window.
//
// # Algorithm
//
// Both limiters keep, per key, two counters of fixed windows of length
// per: cur, the units taken in the window that holds now, and prev, the
// units taken in the window just before it. The sliding window that ends
// now covers the last (per - elapsed) of the previous window, elapsed
// being the time since the current window began, so the units in it are
// estimated as
//
//	estimate = prev * (per - elapsed) / per + cur
//
// and a call is allowed when estimate + 1 <= n. A key's first window
// begins at its first call, not at a multiple of per, so a limit is exact
// at the start: n calls pass and call n+1 is refused, however many
// callers race. Later the estimate assumes the previous window's units
// were spread evenly over it; that is what the algorithm trades for
// keeping two counters instead of a timestamp per unit. A key is meant for
// one limit: when per changes for a key, its counts start afresh.
//
// [Decision.RetryAfter] of a refused call is the time until the estimate
// has dropped far enough for one unit: within the current window while the
// previous one's weight falls, else in the next window, where the current
// count becomes the previous one. It is never below one millisecond.
// [Decision.Remaining] is how many more units the estimate allows now.
//
// # One algorithm in both
//
// [Redis] runs the arithmetic of [Local] in one Lua script (window.lua),
// run with EVALSHA and sent whole with EVAL when the server lacks it; the
// script reads the server's clock (TIME), so instances with skewed clocks
// agree. Times are whole milliseconds in both; both compute the same
// float64 expressions, which are exact while n times per in milliseconds
// stays below 2^53. A test runs the script and [Local] on the same clock
// and checks every decision is the same, so a limit means the same
// in-process and shared.
//
// # Keys and memory
//
// [Local] holds at most [LocalOptions.MaxKeys] keys. When it is full, a
// new key replaces, looking from the least recently used end, a key whose
// two windows are over (which holds nothing the limit still needs), else
// the least recently used key, which then starts afresh. So a flood of
// distinct keys — one per spoofed address — costs bounded memory; it can
// only reset the counts of keys idle longer than the flood's keys.
//
// [Redis] stores a key as a hash at prefix + ":rl:" + key and sets it to
// expire two windows after the last allowed call (PEXPIRE), when its
// windows are over.
//
// # Errors
//
// n <= 0, or per shorter than a millisecond, is an error wrapping
// [ErrInvalidLimit]. A Redis failure is returned as an error naming Redis
// and the operation; whether a call passes when Redis is down (fail-open)
// or is refused (fail-closed) is the caller's choice. The caller also
// turns a refusal into a resource_exhausted error carrying RetryAfter.
package ratelimit
