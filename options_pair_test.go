package titan_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/cache"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/validate"
)

// registerErr registers the calculator with opt on a fresh Netron and
// returns the error, "" when there is none.
func registerErr(t *testing.T, opt netron.ServiceOption) string {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calculator{}, opt); err != nil {
		return err.Error()
	}
	return ""
}

// Every titan option of a service or a method is the netron option of the
// same name: the same String() form (the call that made it) and the same
// error for the same bad value, whichever API the app used.
func TestOptionsPairWithNetron(t *testing.T) {
	t.Parallel()
	contract := json.RawMessage(`{"type":"array"}`)
	pairs := []struct {
		name          string
		titan, netron netron.ServiceOption
		wantString    string
		wantErr       string // "" when the value is good
	}{
		{"Transports", titan.Transports("tcp", "ws"), netron.WithTransports("tcp", "ws"), `Transports("tcp", "ws")`, ""},
		{"Transports()", titan.Transports(), netron.WithTransports(), `Transports()`, "Transports(): name at least one transport"},
		{"Cache", titan.Cache(time.Minute), netron.WithCache(time.Minute), `Cache(1m0s)`, ""},
		{"Cache(-1s)", titan.Cache(-time.Second), netron.WithCache(-time.Second), `Cache(-1s)`, "Cache(-1s): negative TTL"},
		{"CacheVaryBy", titan.CacheVaryBy("tenant"), cache.VaryBy("tenant"), `cache.VaryBy("tenant")`, ""},
		{"CacheVaryBy()", titan.CacheVaryBy(), cache.VaryBy(), `cache.VaryBy()`, "name at least one metadata key"},
		{"Contract", titan.Contract("add", contract, nil), netron.WithContract("add", contract, nil), `Contract("add")`, ""},
		{"HTTP", titan.HTTP("/api/calc"), httptransport.Path("/api/calc"), `HTTP("/api/calc")`, ""},
		{"HTTP bad", titan.HTTP("api/"), httptransport.Path("api/"), `HTTP("api/")`, "must start with '/'"},
		{"Method", titan.Method("add", titan.CacheTTL(time.Second)), netron.WithMethod("add", netron.WithCacheTTL(time.Second)), `Method("add")`, ""},
		{"CacheTTL(-1s)", titan.Method("add", titan.CacheTTL(-time.Second)), netron.WithMethod("add", netron.WithCacheTTL(-time.Second)), `Method("add")`, "CacheTTL(-1s): negative TTL"},
		{"Args", titan.Method("add", titan.Args("a", "b")), netron.WithMethod("add", netron.WithArgs("a", "b")), `Method("add")`, ""},
		{"Args twice", titan.Method("add", titan.Args("a", "a")), netron.WithMethod("add", netron.WithArgs("a", "a")), `Method("add")`, `Args("a", "a"): names must be non-empty and distinct`},
		{"SkipOutputValidation", titan.Method("add", titan.SkipOutputValidation()), netron.WithMethod("add", validate.SkipOutput()), `Method("add")`, ""},
		{"unknown method", titan.Method("nope"), netron.WithMethod("nope"), `Method("nope")`, `Method("nope"): no such public method`},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			if a, b := p.titan.String(), p.netron.String(); a != b || a != p.wantString {
				t.Errorf("String(): titan %s, netron %s, want %s", a, b, p.wantString)
			}
			a, b := registerErr(t, p.titan), registerErr(t, p.netron)
			if a != b {
				t.Errorf("errors differ:\ntitan  %s\nnetron %s", a, b)
			}
			if p.wantErr == "" && a != "" || p.wantErr != "" && !strings.Contains(a, p.wantErr) {
				t.Errorf("error %q, want %q", a, p.wantErr)
			}
		})
	}
	for _, m := range []struct {
		titan, netron netron.MethodOption
		want          string
	}{
		{titan.CacheTTL(time.Second), netron.WithCacheTTL(time.Second), "CacheTTL(1s)"},
		{titan.Args("a", "b"), netron.WithArgs("a", "b"), `Args("a", "b")`},
		{titan.SkipOutputValidation(), validate.SkipOutput(), "SkipOutputValidation(true)"},
		{titan.Idempotent(), netron.WithIdempotent(), "Idempotent()"},
	} {
		if a, b := m.titan.String(), m.netron.String(); a != b || a != m.want {
			t.Errorf("method option String(): titan %s, netron %s, want %s", a, b, m.want)
		}
	}
	// App-wide options that are Netron options underneath print the same.
	ic := netron.Interceptor(nil)
	for _, a := range []struct{ titan, netron, want string }{
		{titan.Interceptors(ic, ic).String(), netron.WithInterceptors(ic, ic).String(), "Interceptors(2)"},
		{titan.Strict().String(), netron.WithStrict().String(), "Strict()"},
	} {
		if a.titan != a.netron || a.titan != a.want {
			t.Errorf("String(): titan %s, netron %s, want %s", a.titan, a.netron, a.want)
		}
	}
	t.Run("client", clientOptionsPairWithNetron)
}

// clientErrs returns the errors of opt given to a pool (Netron.NewPool),
// to netron.Dial and to titan.Remote (from the app's build), "" for none.
func clientErrs(t *testing.T, opt netron.ClientOption) (pool, dial, remote string) {
	t.Helper()
	ctx := context.Background()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(ctx)
	str := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	_, err = n.NewPool("calculator@^1", netron.StaticResolver{"calculator": "mem://nowhere"}, opt)
	pool = str(err)
	if p, err := netron.Dial(ctx, "mem://client-options-pair", opt); err == nil {
		p.Close()
	} else {
		dial = str(err)
	}
	remote = str(titan.New(titan.WithConfig(quiet()), titan.Remote[CalculatorClient]("calculator@^1", opt)).Err())
	return pool, dial, remote
}

// Every titan option of a client (titan.Remote) is the netron client
// option it names, as are the deprecated names of the HTTP client's and
// the pool's options: the same String() and the same error for the same
// bad value, given to a pool, to netron.Dial or to titan.Remote.
func clientOptionsPairWithNetron(t *testing.T) {
	pairs := []struct {
		name          string
		titan, netron netron.ClientOption
		wantString    string // "" to compare the errors only
		wantErr       string // "" when the value is good (for a pool)
	}{
		{"At", titan.At("tcp://127.0.0.1:1"), netron.WithAddress("tcp://127.0.0.1:1"), `At("tcp://127.0.0.1:1")`, ""},
		{"At no scheme", titan.At("127.0.0.1:7070"), netron.WithAddress("127.0.0.1:7070"), `At("127.0.0.1:7070")`, `At("127.0.0.1:7070"): want a URL such as tcp://127.0.0.1:7070`},
		{"At empty", titan.At(""), netron.WithAddress(""), `At("")`, `At(""): want a URL`},
		{"RemoteOption", titan.RemoteOption(titan.At("unix:///x")), netron.WithAddress("unix:///x"), `At("unix:///x")`, ""},
		{"http.WithBearerToken", httptransport.WithBearerToken("tok"), netron.WithBearerToken("tok"), "BearerToken(…)", ""},
		{"http.WithBearerToken bad", httptransport.WithBearerToken("a\x00b"), netron.WithBearerToken("a\x00b"), "BearerToken(…)", "BearerToken(…): want a non-empty token of printable characters"},
		{"PoolOptions", netron.PoolOptions{Balancer: netron.Random}, netron.WithBalancer(netron.Random), "", ""},
		{"PoolOptions bad", netron.PoolOptions{Balancer: "fastest"}, netron.WithBalancer("fastest"), "", `Balancer("fastest"): want round-robin, random, least-pending or power-of-two`},
		{"Retry bad", titan.Retry(titan.RetryConfig{Attempts: -1}), titan.Retry(titan.RetryConfig{Attempts: -1}), "Retry(Attempts: -1)", "Retry(Attempts: -1): Attempts -1: want 1 or more"},
		{"TLS", netron.WithTLS(nil, nil), netron.WithTLS(nil, nil), "TLS(…)", "TLS(…): not an option of a pool"},
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			if p.wantString != "" {
				if a, b := p.titan.String(), p.netron.String(); a != b || a != p.wantString {
					t.Errorf("String(): titan %s, netron %s, want %s", a, b, p.wantString)
				}
			}
			poolA, dialA, remoteA := clientErrs(t, p.titan)
			poolB, dialB, remoteB := clientErrs(t, p.netron)
			if poolA != poolB || dialA != dialB {
				t.Errorf("errors differ:\npool: %s\n      %s\ndial: %s\n      %s", poolA, poolB, dialA, dialB)
			}
			if p.wantErr == "" && poolA != "" || p.wantErr != "" && !strings.Contains(poolA, p.wantErr) {
				t.Errorf("pool error %q, want %q", poolA, p.wantErr)
			}
			if p.wantString != "" && remoteA != remoteB {
				t.Errorf("titan.Remote errors differ:\n%s\n%s", remoteA, remoteB)
			}
			for _, remote := range []string{remoteA, remoteB} {
				if p.wantErr == "" && remote != "" || p.wantErr != "" && !strings.Contains(remote, p.wantErr) {
					t.Errorf("titan.Remote: %q, want %q", remote, p.wantErr)
				}
			}
		})
	}
}
