package http_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httpgw "github.com/titanframework/titan/modules/netron/http"
)

// With a CORS policy, an answer depends on the request's Origin whatever
// the Origin is: a cache (the browser's own) that kept /openapi.json
// fetched without one must not give it to a page of an allowed origin,
// which would find no Access-Control-Allow-Origin in it.
func TestCORSAnswersVaryByOrigin(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil,
		httpgw.WithGatewayOptions(httpgw.WithCORS(httpgw.CORS{Origins: []string{"http://app.example"}})))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	for _, origin := range []string{"", "http://evil.example", "http://app.example"} {
		var h []string
		if origin != "" {
			h = []string{"Origin", origin}
		}
		r := do(t, c, http.MethodGet, addr+"/openapi.json", "", h...)
		if r.status != http.StatusOK {
			t.Fatalf("GET /openapi.json from %q: %d %s", origin, r.status, r.body)
		}
		var vary []string
		for _, v := range r.header.Values("Vary") {
			for f := range strings.SplitSeq(v, ",") {
				vary = append(vary, strings.TrimSpace(f))
			}
		}
		if !slices.Contains(vary, "Origin") {
			t.Errorf("GET /openapi.json from %q: Cache-Control %q, Vary %q; want Vary to name Origin", origin, r.header.Get("Cache-Control"), vary)
		}
	}
}

// A preflight allows the request headers the gateway reads: a page that
// sends its request id or its trace context (as OpenTelemetry's browser
// instrumentation does) is not refused by the browser.
func TestCORSPreflightAllowsTheHeadersTheGatewayReads(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil,
		httpgw.WithGatewayOptions(httpgw.WithCORS(httpgw.CORS{Origins: []string{"http://app.example"}})))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked := []string{"content-type", "authorization", "x-request-id", "traceparent", "tracestate", strings.ToLower(httpgw.TitanPeerHeader)}
	r := do(t, client(t), http.MethodOptions, addr+"/netron/invoke", "",
		"Origin", "http://app.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", strings.Join(asked, ","))
	allowed := map[string]bool{}
	for f := range strings.SplitSeq(r.header.Get("Access-Control-Allow-Headers"), ",") {
		allowed[strings.ToLower(strings.TrimSpace(f))] = true
	}
	for _, h := range asked {
		if !allowed[h] {
			t.Errorf("preflight for %s: Access-Control-Allow-Headers %q does not allow it", h, r.header.Get("Access-Control-Allow-Headers"))
		}
	}
}

// A page of an allowed origin can read the headers the gateway's answers
// document: the error's Titan code, the request id, when to retry.
func TestCORSExposesTheGatewayHeaders(t *testing.T) {
	t.Parallel()
	s := startServer(t, "?cors=http://app.example")
	r := post(t, client(t), s.addr+"/netron/invoke", `{"id":"1","service":"calculator","method":"div","input":[1,0]}`, "Origin", "http://app.example")
	if r.status != http.StatusBadRequest || r.header.Get("X-Titan-Code") != "invalid_argument" {
		t.Fatalf("div by 0: %d, X-Titan-Code %q", r.status, r.header.Get("X-Titan-Code"))
	}
	exposed := map[string]bool{}
	for f := range strings.SplitSeq(r.header.Get("Access-Control-Expose-Headers"), ",") {
		exposed[strings.ToLower(strings.TrimSpace(f))] = true
	}
	for _, h := range []string{"x-titan-code", "x-request-id", "retry-after", "x-trace-id", "x-span-id"} {
		if !exposed[h] {
			t.Errorf("Access-Control-Expose-Headers %q: a page of the allowed origin cannot read %s", r.header.Get("Access-Control-Expose-Headers"), h)
		}
	}
}

// Origins "*" with credentials would let a page of any site call the
// gateway with its visitor's cookies and read the answers, which browsers
// refuse for a literal "*" on purpose: every form of the setting (the Go
// option, the http section, the listen URL's deprecated query) is an error
// naming it and asking for the origins, and the gateway does not start.
func TestCORSWildcardWithCredentialsIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start func(n *netron.Netron) error
		want  []string // in the error
		not   string   // not in the error
	}{
		{"option", func(n *netron.Netron) error {
			g, err := httpgw.Listen(ctx, n, "http://127.0.0.1:0", httpgw.WithCORS(httpgw.CORS{Origins: []string{"*"}, Credentials: true}))
			if err == nil {
				_ = g.Shutdown(ctx)
			}
			return err
		}, []string{"WithCORS", "Credentials", "list the allowed origins"}, "http.cors"},
		{"option among origins", func(n *netron.Netron) error {
			_, err := httpgw.NewHandler(n, httpgw.WithCORS(httpgw.CORS{Origins: []string{"https://app.example", "*"}, Credentials: true}))
			return err
		}, []string{"WithCORS", "list the allowed origins"}, "http.cors"},
		{"section", func(*netron.Netron) error {
			_, err := httpgw.Config{CORS: httpgw.CORS{Origins: []string{"*"}, Credentials: true}}.Options()
			return err
		}, []string{"http.cors.origins", "http.cors.credentials", "list the allowed origins"}, "WithCORS("},
		{"query", func(n *netron.Netron) error {
			_, err := n.Listen(ctx, "http://127.0.0.1:0?cors=*&corsCredentials=true")
			return err
		}, []string{"cors=*", "corsCredentials=true", "list the allowed origins"}, "http.cors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := refused(t, tc.start, tc.want...)
			if strings.Contains(err.Error(), tc.not) {
				t.Errorf("%v\nwant it not to name %q", err, tc.not)
			}
			if c := strings.Count(err.Error(), "list the allowed origins"); c > 1 {
				t.Errorf("%v\nsays it %d times, want once", err, c)
			}
		})
	}
}

// Credentials go with the origins listed: an allowed one gets the grant
// with Access-Control-Allow-Credentials, another none; "*" without
// credentials grants every origin, without Access-Control-Allow-Credentials.
func TestCORSCredentialsForListedOrigins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cors                 httpgw.CORS
		origin, allow, creds string
	}{
		{httpgw.CORS{Origins: []string{"https://app.example"}, Credentials: true}, "https://app.example", "https://app.example", "true"},
		{httpgw.CORS{Origins: []string{"https://app.example"}, Credentials: true}, "https://evil.example", "", ""},
		{httpgw.CORS{Origins: []string{"*"}}, "https://any.example", "https://any.example", ""},
	} {
		n, err := netron.New(netron.Config{}, nil, httpgw.WithGatewayOptions(httpgw.WithCORS(tc.cors)))
		if err != nil {
			t.Fatal(err)
		}
		defer n.Stop(context.Background())
		addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
		if err != nil {
			t.Fatalf("%+v: %v", tc.cors, err)
		}
		r := do(t, client(t), http.MethodOptions, addr+"/netron/invoke", "", "Origin", tc.origin, "Access-Control-Request-Method", "POST")
		if got, creds := r.header.Get("Access-Control-Allow-Origin"), r.header.Get("Access-Control-Allow-Credentials"); got != tc.allow || creds != tc.creds {
			t.Errorf("%+v, Origin %s: Access-Control-Allow-Origin %q, Access-Control-Allow-Credentials %q; want %q, %q",
				tc.cors, tc.origin, got, creds, tc.allow, tc.creds)
		}
	}
}

// refused runs start with a Netron of its own and fails the test unless
// it returns an error containing each of want; it returns the error.
func refused(t *testing.T, start func(n *netron.Netron) error, want ...string) error {
	t.Helper()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	err = start(n)
	if err == nil {
		t.Fatal("accepted; want an error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%v\nwant it to contain %q", err, w)
		}
	}
	return err
}
