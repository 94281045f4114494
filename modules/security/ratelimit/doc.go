// Package ratelimit holds the sliding-window rate limiting behind
// titan.RateLimit(n, per): the [Limiter] interface, [Local], the limiter
// in the process, and the registry of shared backends. Each Allow takes
// one unit for a key (the caller's identity, else the peer's address — the
// caller of this package chooses) from a limit of n per window.
//
// # Backends
//
// A limiter shared by several instances lives in a package of its own
// that registers a [Backend] by name from its init function
// ([RegisterBackend]), so that a program links a store's client only when
// it imports the package. Titan's is "redis", in package
// github.com/titanframework/titan/modules/security/ratelimit/redis, shared
// by every instance that names the same Redis server and key prefix.
// [OpenBackend] opens a backend by name; a name whose package the program
// does not import is an error naming the import. "memory" is not a
// registered backend: it is [Local].
//
// # Algorithm
//
// Every limiter keeps, per key, two counters of fixed windows of length
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
// # One algorithm everywhere
//
// Times are whole milliseconds; the comparisons are float64 expressions,
// exact while n times per in milliseconds stays below 2^53. A backend that
// computes the arithmetic elsewhere (the redis backend, in a Lua script on
// the server's clock) computes the same expressions, validates n and per
// with [CheckLimit] and turns its result into a Decision with
// [NewDecision]; the redis backend's test runs its script and [Local] on
// the same clock and checks every decision is the same, so a limit means
// the same in-process and shared.
//
// # Keys and memory
//
// [Local] holds at most [LocalOptions.MaxKeys] keys, and forgets none
// while it holds fewer. It spreads its keys over shards, each with its
// own lock; when it is full, a new key replaces a key of its shard (of
// another shard when its own holds none), looking from the shard's least
// recently used end: a key whose two windows are over (which holds
// nothing the limit still needs), else the shard's least recently used
// key, which then starts afresh. So a flood of distinct keys — one per
// spoofed address — costs bounded memory; it can only reset the counts of
// keys idle longer than the flood's keys.
//
// The redis backend stores a key as a hash at prefix + ":rl:" + key and
// sets it to expire two windows after the last allowed call (PEXPIRE),
// when its windows are over.
//
// # Errors
//
// n <= 0, per shorter than a millisecond, or n times per in milliseconds
// of 2^53 or more is an error wrapping [ErrInvalidLimit]; a URL a backend cannot use is an error wrapping
// [ErrInvalidURL]. A failure of a backend's store is returned as an error
// naming the store and the operation; whether a call passes when the store
// is down (fail-open) or is refused (fail-closed) is the caller's choice.
// The caller also turns a refusal into a resource_exhausted error carrying
// RetryAfter.
package ratelimit
