package titan_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
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
}
