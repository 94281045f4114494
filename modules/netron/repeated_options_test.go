package netron_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// TestRepeatedServiceOptions: an option that sets one value of a service
// or a method (a TTL, an extension such as the HTTP path, a contract,
// argument names, a policy), given twice with different values, fails
// Register with an error that names the service and both options; the
// same value twice, and options that add to a list, are accepted.
func TestRepeatedServiceOptions(t *testing.T) {
	t.Parallel()
	in := json.RawMessage(`{"type":"array","prefixItems":[{"type":"string"}],"items":false}`)
	in2 := json.RawMessage(`{"type":"array","prefixItems":[{"type":"string","minLength":1}],"items":false}`)
	tests := []struct {
		name string
		opts []netron.ServiceOption
		want string // "" when Register succeeds
	}{
		{"Cache twice", []netron.ServiceOption{netron.WithCache(time.Second), netron.WithCache(time.Minute)},
			`service echo@1.0.0: Cache(1m0s) conflicts with Cache(1s): a service has one cache TTL`},
		{"Cache the same twice", []netron.ServiceOption{netron.WithCache(time.Second), netron.WithCache(time.Second)}, ""},
		{"extension twice", []netron.ServiceOption{netron.WithHTTP("/a"), netron.WithHTTP("/b")},
			`service echo@1.0.0: HTTP("/b") conflicts with HTTP("/a"): a service takes one HTTP option`},
		{"extension the same twice", []netron.ServiceOption{netron.WithHTTP("/a"), netron.WithHTTP("/a")}, ""},
		{"Contract twice", []netron.ServiceOption{netron.WithContract("echo", in, nil), netron.WithContract("echo", in2, nil)},
			`service echo@1.0.0: Contract("echo") conflicts with Contract("echo"): a method has one contract`},
		{"Contract the same twice", []netron.ServiceOption{netron.WithContract("echo", in, nil), netron.WithContract("echo", in, nil)}, ""},
		{"CacheTTL twice in a Method", []netron.ServiceOption{netron.WithMethod("echo", netron.WithCacheTTL(time.Second), netron.WithCacheTTL(time.Minute))},
			`service echo@1.0.0: Method("echo"): CacheTTL(1m0s) conflicts with CacheTTL(1s): a method has one cache TTL`},
		{"CacheTTL in two Methods", []netron.ServiceOption{
			netron.WithMethod("echo", netron.WithCacheTTL(time.Second)),
			netron.WithMethod("echo", netron.WithCacheTTL(0)),
		}, `Method("echo"): CacheTTL(0s) conflicts with CacheTTL(1s): a method has one cache TTL`},
		{"CacheTTL the same in two Methods", []netron.ServiceOption{
			netron.WithMethod("echo", netron.WithCacheTTL(time.Second)),
			netron.WithMethod("echo", netron.WithCacheTTL(time.Second), netron.WithIdempotent()),
		}, ""},
		{"Args twice", []netron.ServiceOption{netron.WithMethod("echo", netron.WithArgs("a")), netron.WithMethod("echo", netron.WithArgs("b"))},
			`Method("echo"): Args("b") conflicts with Args("a"): a method has one list of argument names`},
		{"method extension twice", []netron.ServiceOption{netron.WithMethod("echo",
			netron.WithMethodExtension("Level", "acme.level", 1, nil), netron.WithMethodExtension("Level", "acme.level", 2, nil))},
			`Method("echo"): Level(2) conflicts with Level(1): a method takes one Level option`},
		{"policy twice", []netron.ServiceOption{
			netron.WithPolicy(`Quota(1)`, "acme.quota", 1, nil), netron.WithPolicy(`Quota(2)`, "acme.quota", 2, nil),
		}, `service echo@1.0.0: Quota(2) conflicts with Quota(1): a service has one acme.quota policy`},
		{"policy on the service and on a method", []netron.ServiceOption{
			netron.WithPolicy(`Quota(1)`, "acme.quota", 1, nil),
			netron.WithMethod("echo", netron.WithPolicy(`Quota(2)`, "acme.quota", 2, nil)),
		}, ""},
		{"Cache and a method's CacheTTL", []netron.ServiceOption{netron.WithCache(time.Minute), netron.WithMethod("echo", netron.WithCacheTTL(0))}, ""},
		{"Transports twice", []netron.ServiceOption{netron.WithTransports("mem"), netron.WithTransports("mem", "tcp")}, ""},
		{"nil option", []netron.ServiceOption{netron.WithCache(time.Second), nil}, `service echo@1.0.0: option 2 is nil`},
		{"nil method option", []netron.ServiceOption{netron.WithMethod("echo", nil)}, `Method("echo"): option 1 is nil`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := netron.New(netron.Config{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Stop(context.Background())
			err = func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Register panicked: %v", r)
					}
				}()
				return n.Register("echo", "1.0.0", Echo{}, tt.opts...)
			}()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Register: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("Register succeeded; want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("Register: %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

// TestRepeatedClientOptions: a client has one address and sends one
// token; two different ones are refused, naming both options.
func TestRepeatedClientOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []netron.ClientOption
		want string // "" when they are accepted
	}{
		{"At twice", []netron.ClientOption{netron.WithAddress("tcp://127.0.0.1:1"), netron.WithAddress("tcp://127.0.0.1:2")},
			`At("tcp://127.0.0.1:2") conflicts with At("tcp://127.0.0.1:1"): a client has one address`},
		{"At the same twice", []netron.ClientOption{netron.WithAddress("tcp://127.0.0.1:1"), netron.WithAddress("tcp://127.0.0.1:1")}, ""},
		{"BearerToken twice", []netron.ClientOption{netron.WithBearerToken("a"), netron.WithBearerToken("b")},
			`BearerToken(…) conflicts with BearerToken(…): a client sends one token`},
		{"BearerToken the same twice", []netron.ClientOption{netron.WithBearerToken("a"), netron.WithBearerToken("a")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := netron.CheckPoolOptions(tt.opts...)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckPoolOptions: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckPoolOptions: %v\nwant an error containing %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), `"b"`) {
				t.Fatalf("the error shows a token: %v", err)
			}
		})
	}
}
