package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httpgw "github.com/titanframework/titan/modules/netron/http"
)

// An allowed origin is what a browser sends in Origin: one with a path,
// a trailing slash or no scheme would never match, and credentials with
// no origin allow nothing; each form of the setting says so, naming the
// origin or the keys, instead of starting a gateway that refuses every
// page.
func TestCORSOriginsThatCannotMatchAreRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		start func(n *netron.Netron) error
		want  []string
	}{
		{"option, trailing slash", func(n *netron.Netron) error {
			_, err := httpgw.NewHandler(n, httpgw.WithCORS(httpgw.CORS{Origins: []string{"https://app.example/"}}))
			return err
		}, []string{"WithCORS(https://app.example/)", `origin "https://app.example/"`, `"https://app.example"`}},
		{"option, no scheme", func(n *netron.Netron) error {
			_, err := httpgw.NewHandler(n, httpgw.WithCORS(httpgw.CORS{Origins: []string{"app.example"}}))
			return err
		}, []string{`origin "app.example" is not scheme://host[:port]`}},
		{"option, credentials without origins", func(n *netron.Netron) error {
			_, err := httpgw.NewHandler(n, httpgw.WithCORS(httpgw.CORS{Credentials: true}))
			return err
		}, []string{"WithCORS()", "Credentials with no Origins allows nothing"}},
		{"section, path", func(*netron.Netron) error {
			_, err := httpgw.Config{CORS: httpgw.CORS{Origins: []string{"https://ok.example", "https://app.example/login"}}}.Options()
			return err
		}, []string{"http.cors.origins[1]", `origin "https://app.example/login"`}},
		{"section, credentials without origins", func(*netron.Netron) error {
			_, err := httpgw.Config{CORS: httpgw.CORS{Credentials: true}}.Options()
			return err
		}, []string{"http.cors.credentials true with no http.cors.origins allows nothing"}},
		{"query, credentials without cors", func(n *netron.Netron) error {
			_, err := n.Listen(ctx, "http://127.0.0.1:0?corsCredentials=true")
			return err
		}, []string{"corsCredentials=true without cors= allows nothing"}},
		{"query, path", func(n *netron.Netron) error {
			_, err := n.Listen(ctx, "http://127.0.0.1:0?cors=https://app.example/x")
			return err
		}, []string{"cors=https://app.example/x", `origin "https://app.example/x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			refused(t, tc.start, tc.want...)
		})
	}
}

// The listen URL's cors= list may have spaces after its commas: each
// origin is trimmed, so that the second one is allowed too. "null" (a
// sandboxed page) is an origin one may list.
func TestCORSQueryOriginsAreTrimmed(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0?cors=https://a.example,%20https://b.example,null")
	if err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"https://a.example", "https://b.example", "null"} {
		r := do(t, client(t), http.MethodOptions, addr+"/netron/invoke", "", "Origin", origin, "Access-Control-Request-Method", "POST")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want it allowed", origin, got)
		}
	}
}

// WithCORS keeps a copy of the origins: the caller changing its slice
// afterwards changes nothing of the gateway.
func TestWithCORSKeepsItsOwnOrigins(t *testing.T) {
	t.Parallel()
	origins := []string{"https://app.example"}
	n, err := netron.New(netron.Config{}, nil, httpgw.WithGatewayOptions(httpgw.WithCORS(httpgw.CORS{Origins: origins})))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	origins[0] = "https://evil.example"
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]string{"https://app.example": "https://app.example", "https://evil.example": ""} {
		r := do(t, client(t), http.MethodOptions, addr+"/netron/invoke", "", "Origin", origin, "Access-Control-Request-Method", "POST")
		if got := r.header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("Origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
}
