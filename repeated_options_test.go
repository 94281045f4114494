package titan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
)

// TestRepeatedServiceOptions: a service option that sets one value (the
// HTTP path, the cache TTL, a method's CacheTTL) given twice with
// different values fails start-up with an error that names the service
// and both options; the same value twice is accepted.
func TestRepeatedServiceOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []titan.ServiceOption
		want string // "" when the app starts
	}{
		{"HTTP twice", []titan.ServiceOption{titan.HTTP("/a"), titan.HTTP("/b")},
			`service calculator@1.0.0: HTTP("/b") conflicts with HTTP("/a"): a service takes one HTTP option`},
		{"HTTP the same twice", []titan.ServiceOption{titan.HTTP("/a"), titan.HTTP("/a")}, ""},
		{"Cache twice", []titan.ServiceOption{titan.Cache(time.Second), titan.Cache(time.Minute)},
			`service calculator@1.0.0: Cache(1m0s) conflicts with Cache(1s): a service has one cache TTL`},
		{"CacheTTL twice", []titan.ServiceOption{titan.Method("add", titan.CacheTTL(time.Second)), titan.Method("add", titan.CacheTTL(time.Minute))},
			`service calculator@1.0.0: Method("add"): CacheTTL(1m0s) conflicts with CacheTTL(1s): a method has one cache TTL`},
		{"Cache and a method's CacheTTL", []titan.ServiceOption{titan.Cache(time.Minute), titan.Method("add", titan.CacheTTL(time.Second))}, ""},
		{"Args twice", []titan.ServiceOption{titan.Method("add", titan.Args("a", "b")), titan.Method("add", titan.Args("x", "y"))},
			`Method("add"): Args("x", "y") conflicts with Args("a", "b")`},
		{"Args and Idempotent in two Methods", []titan.ServiceOption{titan.Method("add", titan.Args("a", "b")), titan.Method("add", titan.Idempotent())}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := titan.New(titan.WithConfig(quiet()), titan.Service("calculator", "1.0.0", NewCalculator, tt.opts...))
			err := app.Start(context.Background())
			if err == nil {
				if err := app.Stop(context.Background()); err != nil {
					t.Error(err)
				}
				if tt.want != "" {
					t.Fatalf("started; want an error containing %q", tt.want)
				}
				return
			}
			if tt.want == "" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("start: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

// TestRepeatedRemoteOptions: a remote has one address and one policy of
// each kind (one per kind for each method in ForMethod); two that differ
// fail building the app with an error that names the remote and both
// options. The same option twice, and a method's policy in place of the
// remote's, are accepted.
func TestRepeatedRemoteOptions(t *testing.T) {
	t.Parallel()
	const remote = `Remote[titan_test.CalculatorClient]("calculator@1.0.0"`
	tests := []struct {
		name string
		opts []titan.ClientOption
		want string // "" when the app is built
	}{
		{"Timeout twice", []titan.ClientOption{titan.Timeout(time.Second), titan.Timeout(2 * time.Second)},
			remote + `, Timeout(1s), Timeout(2s)): Timeout(2s) conflicts with Timeout(1s): a remote has one timeout`},
		{"Timeout the same twice", []titan.ClientOption{titan.Timeout(time.Second), titan.Timeout(time.Second)}, ""},
		{"At twice", []titan.ClientOption{titan.At("tcp://127.0.0.1:1"), titan.At("tcp://127.0.0.1:2")},
			`At("tcp://127.0.0.1:2") conflicts with At("tcp://127.0.0.1:1"): a client has one address`},
		{"Retry twice", []titan.ClientOption{titan.Retry(titan.RetryConfig{Attempts: 2}), titan.Retry(titan.RetryConfig{Attempts: 5})},
			`Retry(Attempts: 5) conflicts with Retry(Attempts: 2): a remote has one retry`},
		{"Bulkhead and BulkheadWait", []titan.ClientOption{titan.Bulkhead(4), titan.BulkheadWait(4, time.Second)},
			`BulkheadWait(4, 1s) conflicts with Bulkhead(4): a remote has one bulkhead`},
		{"CircuitBreaker twice", []titan.ClientOption{
			titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 3}), titan.CircuitBreaker(titan.CircuitBreakerConfig{Failures: 5}),
		}, `CircuitBreaker(Failures: 5) conflicts with CircuitBreaker(Failures: 3): a remote has one circuit breaker`},
		{"Timeout twice in ForMethod", []titan.ClientOption{titan.ForMethod("add", titan.Timeout(time.Second), titan.Timeout(2*time.Second))},
			`Timeout(2s) conflicts with Timeout(1s): method "add" has one timeout`},
		{"Timeout in two ForMethods", []titan.ClientOption{titan.ForMethod("add", titan.Timeout(time.Second)), titan.ForMethod("add", titan.Timeout(2*time.Second))},
			`Timeout(2s) conflicts with Timeout(1s): method "add" has one timeout`},
		{"kinds in two ForMethods", []titan.ClientOption{titan.ForMethod("add", titan.Timeout(time.Second)), titan.ForMethod("add", titan.Bulkhead(2))}, ""},
		{"a method's Timeout in place of the remote's", []titan.ClientOption{titan.Timeout(time.Second), titan.ForMethod("add", titan.Timeout(2*time.Second))}, ""},
		{"Timeout for two methods", []titan.ClientOption{titan.ForMethod("add", titan.Timeout(time.Second)), titan.ForMethod("count", titan.Timeout(2*time.Second))}, ""},
		{"every kind once", []titan.ClientOption{
			titan.At("tcp://127.0.0.1:1"), titan.Timeout(time.Second), titan.Retry(titan.RetryConfig{}),
			titan.CircuitBreaker(titan.CircuitBreakerConfig{}), titan.Bulkhead(4),
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := titan.New(titan.WithConfig(quiet()), titan.Remote[CalculatorClient]("calculator@1.0.0", tt.opts...)).Err()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("build: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("build: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}
