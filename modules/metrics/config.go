package metrics

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/titanframework/titan/internal/httpserve"
)

// Config is the `metrics` configuration section.
type Config struct {
	// Enabled collects the metrics: the calls' series (the interceptor),
	// peers, cache, breakers, the Go runtime and the process, served at
	// /metrics. Off, /metrics is not served; health still is.
	Enabled bool `json:"enabled" jsonschema:"description=Collect metrics and serve /metrics (health is served either way)"`
	// Listen is the address of the admin HTTP server, host:port
	// (127.0.0.1:9090, :9090), which serves /metrics, /healthz and
	// /readyz. Empty (the default) starts no admin server; titan.Admin
	// sets it.
	Listen string `json:"listen,omitempty" jsonschema:"description=Address (host:port) of the admin HTTP server serving /metrics /healthz /readyz; none when empty"`
	// Mount also serves /_titan/metrics, /_titan/healthz and
	// /_titan/readyz on every http:// and https:// listener of the app.
	Mount bool `json:"mount" jsonschema:"description=Also serve /_titan/metrics /_titan/healthz /_titan/readyz on every http:// listener"`
	// Buckets are the bounds of the call duration histograms, in seconds,
	// ascending; empty means DefaultBuckets.
	Buckets []float64 `json:"buckets,omitempty" jsonschema:"description=Bounds of the call duration histograms in seconds (ascending)"`
	// MaxMethods bounds the distinct methods the calls made are counted
	// apart; the calls to others share the service and method _OTHER.
	MaxMethods int `json:"maxMethods" jsonschema:"minimum=1,description=Distinct methods the calls made are counted apart; the rest share _OTHER"`
	// DrainDelay is how long /readyz answers 503 before the app's
	// listeners close when it stops, so that load balancers stop sending
	// it work first (set it to their probe interval). Zero: the listeners
	// close at once, /readyz failing from the same moment.
	DrainDelay time.Duration `json:"drainDelay" jsonschema:"description=How long /readyz fails before the listeners close on stop"`
	// Health configures the checks.
	Health HealthConfig `json:"health" jsonschema:"description=The health checks of /healthz and /readyz"`
}

// HealthConfig configures the built-in checks.
type HealthConfig struct {
	// Timeout bounds each check.
	Timeout time.Duration `json:"timeout" jsonschema:"description=Time each check may take before it counts as failed"`
	// Critical names the built-in checks whose failure is unhealthy (503)
	// rather than degraded: transports, discovery, peers, memory,
	// goroutines, scheduler. The app's registry entries say unhealthy
	// while a critical check fails, the discovery check excepted (an
	// entry cannot say that it is missing). Whichever it names, /readyz
	// fails until the app listens and once it stops.
	Critical []string `json:"critical" jsonschema:"description=Built-in checks whose failure is unhealthy: transports discovery peers memory goroutines scheduler"`
	// MaxMemory is the memory ceiling in bytes; zero means GOMEMLIMIT
	// when set, else none.
	MaxMemory int64 `json:"maxMemory,omitempty" jsonschema:"minimum=0,description=Memory ceiling in bytes (default GOMEMLIMIT when set)"`
	// MaxGoroutines is the goroutine ceiling; zero means none.
	MaxGoroutines int `json:"maxGoroutines" jsonschema:"minimum=0,description=Goroutine ceiling; 0 for none"`
	// MaxSchedulerLatency is the ceiling of the 99th percentile of the
	// time goroutines wait to run; zero means none.
	MaxSchedulerLatency time.Duration `json:"maxSchedulerLatency" jsonschema:"description=Ceiling of the 99th percentile of goroutine scheduling latency"`
}

// builtinChecks are the names of the built-in checks.
var builtinChecks = []string{"transports", "discovery", "peers", "memory", "goroutines", "scheduler"}

// DefaultConfig returns the defaults: metrics on, no admin server, the
// /_titan/ paths mounted, the transports check critical.
func DefaultConfig() Config {
	return Config{
		Enabled:    true,
		Mount:      true,
		MaxMethods: DefaultMaxMethods,
		Health: HealthConfig{
			Timeout:             2 * time.Second,
			Critical:            []string{"transports"},
			MaxGoroutines:       50_000,
			MaxSchedulerLatency: 100 * time.Millisecond,
		},
	}
}

// check reports the first invalid field, by its key.
func (c Config) check() (key string, err error) {
	if c.Listen != "" {
		if err := httpserve.CheckAddr(c.Listen); err != nil {
			return "metrics.listen", err
		}
	}
	for i, b := range c.Buckets {
		if i > 0 && b <= c.Buckets[i-1] {
			return "metrics.buckets", fmt.Errorf("want ascending bounds, got %v", c.Buckets)
		}
	}
	for _, name := range c.Health.Critical {
		if !slices.Contains(builtinChecks, name) {
			return "metrics.health.critical", fmt.Errorf("no built-in check is named %q (known: %s)", name, strings.Join(builtinChecks, ", "))
		}
	}
	for _, f := range []struct {
		key string
		d   time.Duration
	}{{"metrics.drainDelay", c.DrainDelay}, {"metrics.health.timeout", c.Health.Timeout}, {"metrics.health.maxSchedulerLatency", c.Health.MaxSchedulerLatency}} {
		if f.d < 0 {
			return f.key, fmt.Errorf("want a duration of zero or more, got %v", f.d)
		}
	}
	return "", nil
}
