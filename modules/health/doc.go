// Package health answers whether a Titan app is alive and ready: named
// checks, each critical or not, run together into a [Report] whose status
// is healthy, degraded or unhealthy, served as JSON by /healthz and
// /readyz.
//
// # Status
//
// A report is healthy when every check passes, unhealthy when a critical
// check fails, and degraded when only non-critical checks fail (the rule
// of the original Netron's NetronHealthCheck). Over HTTP, healthy and
// degraded answer 200, unhealthy 503.
//
// # Liveness and readiness
//
// /healthz (liveness, [Checker.Live]) runs only the checks about the
// process itself ([Check.Liveness]: memory, goroutines, scheduler latency),
// so that a failing dependency never gets a healthy process restarted.
// /readyz (readiness, [Checker.Ready]) runs every check, and fails until
// the app serves ([Checker.Starting], [Checker.Started]) and from the
// moment it starts to stop ([Checker.Drain]), before its listeners close.
//
// # Overlapping probes
//
// A check never runs twice at once: probes that overlap (several load
// balancers, discovery's heartbeats) wait for the run in progress, each
// until its own timeout, rather than starting another. A run has its own
// timeout and belongs to no probe, so a probe that gives up does not
// cancel it for the others, and a check that ignores its context holds
// one goroutine however many probes come. No result outlives its run:
// the next probe runs the check again.
//
// # Checks
//
// The process checks are [Memory], [Goroutines] and [SchedulerLatency];
// the engine's are [Transports] and [Peers]; [Registered] checks that the
// app's services are in its discovery registry. The metrics module
// (modules/metrics) installs them, serves the endpoints and adds every
// Check an app provides into the fx group [CheckGroup]:
//
//	titan.Provide(health.AsCheck(func(db *sql.DB) health.Check {
//		return health.Check{Name: "database", Critical: true, Run: db.PingContext}
//	}))
package health
