package health

import (
	"context"
	"time"

	"go.uber.org/fx"
)

// Check is one named test of a part of the app.
type Check struct {
	// Name names the check in reports ("database"); names are unique
	// within a [Checker], and [StartingCheck] and [DrainingCheck] are
	// reserved for the Checker's own results.
	Name string
	// Critical makes a failure of the check unhealthy (503); a failure of
	// a check that is not critical is degraded (200).
	Critical bool
	// Liveness puts the check in /healthz as well as /readyz: set it only
	// for checks about the process itself, whose failure a restart cures.
	Liveness bool
	// Timeout bounds Run; zero means the Checker's timeout. A check that
	// overruns it fails.
	Timeout time.Duration
	// Run returns nil when the part is well, else an error that says
	// what is wrong. It must return soon after ctx ends. A Checker never
	// runs it twice at once: overlapping probes share a run, whose ctx
	// is bounded by Timeout and cancelled by no probe, and carries the
	// values (a trace, a logger) of the probe that started the run.
	Run func(ctx context.Context) error
}

// CheckGroup is the fx value group of the [Check] values an app adds.
const CheckGroup = "titan.health.checks"

// AsCheck annotates a constructor returning a [Check] into [CheckGroup].
func AsCheck(f any) any {
	return fx.Annotate(f, fx.ResultTags(`group:"`+CheckGroup+`"`))
}

// Status is the overall answer of a [Report].
type Status string

// The statuses, from best to worst.
const (
	// Healthy: every check passed.
	Healthy Status = "healthy"
	// Degraded: only checks that are not critical failed.
	Degraded Status = "degraded"
	// Unhealthy: a critical check failed.
	Unhealthy Status = "unhealthy"
)

// HTTPStatus is the status code the endpoints answer with: 200 for
// healthy and degraded, 503 for unhealthy.
func (s Status) HTTPStatus() int {
	if s == Unhealthy {
		return 503
	}
	return 200
}

// Report is the answer of /healthz or /readyz.
type Report struct {
	Status Status `json:"status"`
	// Timestamp is when the checks began, in Unix milliseconds (as the
	// original's Date.now()).
	Timestamp int64 `json:"timestamp"`
	// DurationMs is how long all the checks took, in milliseconds.
	DurationMs float64 `json:"durationMs"`
	// Checks are the results by check name.
	Checks map[string]Result `json:"checks"`
}

// Result is one check's part of a [Report].
type Result struct {
	Healthy  bool `json:"healthy"`
	Critical bool `json:"critical"`
	// Error says why the check failed; empty when it passed.
	Error string `json:"error,omitempty"`
	// DurationMs is how long the check ran, in milliseconds.
	DurationMs float64 `json:"durationMs"`
}

// status is the status of results: unhealthy when a critical check
// failed, degraded when only others did, healthy otherwise.
func status(results map[string]Result) Status {
	st := Healthy
	for _, r := range results {
		switch {
		case r.Healthy:
		case r.Critical:
			return Unhealthy
		default:
			st = Degraded
		}
	}
	return st
}
