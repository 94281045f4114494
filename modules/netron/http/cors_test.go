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
