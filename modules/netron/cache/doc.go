// Package cache serves the results of cacheable methods (titan.Cache,
// titan.CacheTTL; [netron.MethodSpec.CacheTTL]) from memory, on otter.
//
// It is an ordinary [netron.Interceptor] written against the engine's
// public call model only. A titan app installs it (innermost but for
// validation, so a cached result was validated when it was made), sized by
// netron.cacheSize and netron.cacheBytes; with a bare Netron, give it to
// [netron.WithInterceptors] and close it when the Netron has stopped:
//
//	c := cache.New(10_000)
//	defer c.Close()
//	n, err := netron.New(cfg, log, netron.WithInterceptors(c, validate.New(log)))
//
// # What a result is kept under
//
// A result is kept per service, method, caller ([netron.Call.Identity])
// and encoded arguments, for the method's TTL; errors are not kept. The
// call's metadata is not part of the key: a method whose answer depends on
// what its caller sends alongside the arguments (a tenant or a locale it
// reads with [netron.IncomingMetadata]) would serve one caller's answer to
// another. Name those metadata keys with [VaryBy], on the service or on
// the method, or do not cache the method. The invalidate_cache task
// ([netron.TaskInvalidateCache]) empties the cache by service pattern
// ([Cache.Invalidate]).
//
// # Calls of one key at once
//
// While a call runs the method for a key the cache does not hold, the
// calls of the same key (same service, method, caller, varied metadata
// and arguments) that arrive wait for it instead of running the method
// too, so that a result that expired or was invalidated under load costs
// one run, not one per caller. When it answers, each waiting call gets
// the result as a hit would (a result of its own), or the run's error;
// errors are still not kept. A waiting call gives up when its own context
// ends, with that context's code (canceled, deadline_exceeded); when the
// context of the running call ends instead, a waiting call runs the
// method itself. A result the cache does not keep (see below) is not
// shared either: each waiting call then runs the method itself.
//
// # Memory
//
// The results held take at most 64 MiB together, keys included, unless
// [WithMaxBytes] gives another budget; the size given to [New] still
// caps their number. Past either bound the results least likely to be
// asked for again are dropped. A result whose key and value would take
// more than a sixteenth of the budget is not kept at all (the method runs
// for every such call), so that no one call pushes many others out. The
// strings of a result kept as it is (see below) are kept as copies, so
// that a string cut from a larger one (a title cut from a page) does not
// hold the larger one in memory; a result holding a string the cache
// cannot copy (an unexported field) is not kept.
//
// # What a caller gets
//
// Every caller gets a result of its own. A result that holds nothing a
// caller could change (a number, a string, a time.Time, an array or struct
// of those) is handed out as it was kept. Any other result (a map, a
// slice, a pointer, an interface, a struct holding one) is kept in its
// encoded form and decoded for each call the cache answers, so a caller
// that changes its answer changes nobody else's. Such an answer is what a
// remote caller decodes, not the Go value the method returned: nil maps
// and slices come back empty, times to the millisecond in UTC, numbers
// held by an interface as int64, uint64 or float64 and maps held by one as
// [protocol.Object], unexported fields and fields the encoding skips as
// their zero value. A result whose encoding does not decode back into its
// own type is not kept.
//
// # Time
//
// A result's age is read from the system clock, or from the clock given
// with [WithClock], so that a test can move time on and see results
// expire (titan.WithClock, titantest.Clock).
package cache
