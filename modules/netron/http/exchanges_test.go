package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/wirevectors"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// The http_exchanges of shared/protocol/vectors.json are live request and
// answer pairs of the original TypeScript server (NETRON-WIRE.md §11).
// TestExchanges replays each request against Go services shaped like the
// recorded ones and compares the answers structurally: the status, the
// recorded headers (x-request-id only for presence and agreement with the
// body's id), and the JSON body — the same keys at every level, the same
// kinds of values, equal strings, numbers and booleans, except generated
// ids (UUIDs), timings (serverTime, totalTime) and error messages, which
// must start with the recorded message (ours may name the problem further,
// as "Invalid JSON: …").
//
// Exchanges that differ by design, each a documented defect or choice:
//
//   - "GET /metrics with bearer": the original's JSON metrics are not
//     served; Prometheus metrics belong to modules/metrics. We answer 401.
//   - "GET /openapi.json with bearer" and "GET /openapi.json (no bearer)":
//     the document is ours (OpenAPI 3.1.0, served without authentication,
//     as the issue asks): only the status 200, the headers and the top-level
//     keys are compared.
//   - "HttpClient.invoke('calculator@1.0.0','internal',[]) (non-@Public
//     method over HTTP)": the original calls non-public methods over HTTP
//     (NETRON-WIRE.md §13.9); we answer 404 "Method internal not found".
//
//   - "OPTIONS /netron/invoke preflight": the preflight also allows the
//     request headers the gateway reads besides Content-Type and
//     Authorization (X-Request-ID, the trace context, X-Titan-Peer): the
//     recorded ones must be among them.
//
// The original's crash on an 11 MiB body (§13.4) is not among the
// exchanges (the client only saw the connection drop); TestBodyOverLimit
// checks our 413 instead.

// ReplayCalculator mirrors the recorded calculator@1.0.0.
type ReplayCalculator struct{}

func (ReplayCalculator) Add(_ context.Context, a, b float64) (float64, error) { return a + b, nil }
func (ReplayCalculator) Greet(_ context.Context, name string) (string, error) {
	return "hi " + name, nil
}

func (ReplayCalculator) Count(_ context.Context, n int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := range n {
			if !yield(i, nil) {
				return
			}
		}
	}
}

// Internal is not public (no context), like the original's method without
// @Public.
func (ReplayCalculator) Internal() {}

// Chat mirrors the recorded chat@1.0.0.
type Chat struct{}

func (Chat) Send(_ context.Context, text string) (string, error) { return text, nil }

// Fail fails the way the recorded chat.fail does for each kind.
func (Chat) Fail(_ context.Context, kind string) (string, error) {
	switch kind {
	case "status":
		return "", netron.Errorf(netron.CodeUnauthenticated, "Session expired").
			WithDetails(protocol.Object{{Key: "errorCode", Value: "SESSION_EXPIRED"}})
	case "conflict":
		return "", netron.Errorf(netron.CodeAlreadyExists, "Already exists").
			WithDetails(protocol.Object{{Key: "key", Value: "k1"}})
	}
	return "", errors.New("plain failure")
}

func (Chat) Nothing(context.Context) error { return nil }

// BigResult holds the JavaScript-only values of chat.big. N, Set and Map
// are typed any: the output contract derived from *big.Int, protocol.Set
// and protocol.Map (an empty object, arrays) does not describe their JSON
// form (a number, {}, {}), so the engine's output validation would refuse
// them (reported as an engine gap).
type BigResult struct {
	N    any       `json:"n"`
	When time.Time `json:"when"`
	Set  any       `json:"set"`
	Map  any       `json:"map"`
}

func (Chat) Big(context.Context) (BigResult, error) {
	n, _ := new(big.Int).SetString("12345678901234567890", 10)
	return BigResult{
		N: n, When: time.UnixMilli(1718000000000).UTC(),
		Set: protocol.Set{"a"}, Map: protocol.Map{{Key: "k", Value: "v"}},
	}, nil
}

// replayAuth is the recorded server's authentication: alice/secret or the
// token good-token.
func replayAuth(_ context.Context, _ *netron.Peer, credentials any) (any, error) {
	c, _ := credentials.(protocol.Object)
	get := func(k string) string {
		v, _ := c.Get(k)
		s, _ := v.(string)
		return s
	}
	if get("username") == "alice" && get("password") == "secret" || get("token") == "good-token" {
		return protocol.Object{
			{Key: "success", Value: true},
			{Key: "context", Value: protocol.Object{
				{Key: "userId", Value: "u-alice"},
				{Key: "roles", Value: []any{"admin"}},
				{Key: "permissions", Value: []any{"calc:use"}},
			}},
		}, nil
	}
	return protocol.Object{{Key: "success", Value: false}, {Key: "error", Value: "Invalid credentials"}}, nil
}

type exchange struct {
	Server  string `json:"server"`
	Step    string `json:"step"`
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func loadExchanges(t *testing.T) []exchange {
	b := wirevectors.JSON
	var v struct {
		HTTPExchanges []exchange `json:"http_exchanges"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.HTTPExchanges) == 0 {
		t.Fatal("vectors.json has no http_exchanges")
	}
	return v.HTTPExchanges
}

func TestExchanges(t *testing.T) {
	exchanges := loadExchanges(t)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", ReplayCalculator{}); err != nil {
		t.Fatal(err)
	}
	if err := n.Register("chat", "1.0.0", Chat{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer n.Stop(ctx)
	// The recorded server allowed origin * with credentials, which the
	// gateway refuses (WithCORS); its recorded requests come from
	// http://app.example, listed here instead.
	corsAddr, err := n.Listen(ctx, "http://127.0.0.1:0?cors=http://app.example&corsCredentials=true")
	if err != nil {
		t.Fatal(err)
	}
	authGW, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0", httptransport.WithAuthenticator(replayAuth))
	if err != nil {
		t.Fatal(err)
	}
	defer authGW.Shutdown(ctx)
	servers := map[string]string{
		"auth configured": authGW.Addr(),
		"no auth, cors {origin:*, credentials:true}": corsAddr,
	}
	c := client(t)
	matched, skipped := 0, 0
	for _, x := range exchanges {
		t.Run(x.Step, func(t *testing.T) {
			base, ok := servers[x.Server]
			if !ok {
				t.Fatalf("unknown recorded server %q", x.Server)
			}
			want := x.Response
			switch x.Step {
			case "GET /metrics with bearer":
				skipped++
				t.Skip("documented: the original's JSON metrics are not served (Prometheus metrics are modules/metrics')")
			case "HttpClient.invoke('calculator@1.0.0','internal',[]) (non-@Public method over HTTP)":
				// Documented defect §13.9: only public methods are reachable.
				want.Status = 404
				want.Headers = map[string]string{"content-type": "application/json"}
				want.Body = json.RawMessage(`{"id":"q5q9l853n9g2d9iq","success":false,"error":{"code":"404","message":"Method internal not found in service calculator@1.0.0","details":{}}}`)
			}
			got := replay(t, c, base, x)
			if strings.HasPrefix(x.Step, "GET /openapi.json") {
				compareOpenAPI(t, x, got)
				matched++
				return
			}
			if got.status != want.Status {
				t.Fatalf("status %d, recorded %d: %s", got.status, want.Status, got.body)
			}
			var gotBody any
			if len(want.Body) > 0 && string(want.Body) != "null" {
				gotBody = got.json(t)
			} else if len(bytes.TrimSpace(got.body)) != 0 {
				t.Fatalf("body %q, recorded none", got.body)
			}
			for k, v := range want.Headers {
				g := got.header.Get(k)
				if k == "x-request-id" {
					if id, _ := gotBody.(map[string]any)["id"].(string); g == "" || g != id {
						t.Errorf("x-request-id %q, body id %q", g, id)
					}
					continue
				}
				if k == "access-control-allow-headers" {
					for _, h := range strings.Split(v, ", ") {
						if !slices.Contains(strings.Split(g, ", "), h) {
							t.Errorf("header %s: %q, recorded %q: %s is not allowed", k, g, v, h)
						}
					}
					continue
				}
				if g != v {
					t.Errorf("header %s: %q, recorded %q", k, g, v)
				}
			}
			if gotBody != nil {
				var problems []string
				compareStructure("$", decodeNumbers(t, want.Body), gotBody, &problems)
				for _, p := range problems {
					t.Error(p)
				}
				if len(problems) > 0 {
					t.Logf("recorded %s\ngot      %s", want.Body, got.body)
				}
			}
			if !t.Failed() {
				matched++
			}
		})
	}
	t.Logf("%d of %d exchanges matched, %d skipped as documented", matched, len(exchanges), skipped)
}

func replay(t *testing.T, c *http.Client, base string, x exchange) reply {
	t.Helper()
	var body io.Reader
	raw := x.Request.Body
	if len(raw) > 0 && string(raw) != "null" {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			body = strings.NewReader(s) // a raw (invalid JSON) body
		} else {
			body = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(x.Request.Method, base+x.Request.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range x.Request.Headers {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func compareOpenAPI(t *testing.T, x exchange, got reply) {
	if got.status != 200 {
		t.Fatalf("status %d (served without authentication): %s", got.status, got.body)
	}
	for _, k := range []string{"content-type", "cache-control"} {
		if got.header.Get(k) != x.Response.Headers[k] && x.Response.Headers[k] != "" {
			t.Errorf("header %s: %q, recorded %q", k, got.header.Get(k), x.Response.Headers[k])
		}
	}
	var rec struct {
		Keys []string `json:"keys"`
	}
	_ = json.Unmarshal(x.Response.Body, &rec)
	doc := got.obj(t)
	for _, k := range rec.Keys {
		if _, ok := doc[k]; !ok {
			t.Errorf("document has no %q", k)
		}
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi %v", doc["openapi"])
	}
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func looksLikeUUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// compareStructure reports where got differs from the recorded want.
func compareStructure(path string, want, got any, problems *[]string) {
	bad := func(format string, args ...any) {
		*problems = append(*problems, path+": "+fmt.Sprintf(format, args...))
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			bad("got %T, recorded an object", got)
			return
		}
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range w {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			if _, ok := g[k]; !ok {
				bad("missing key %q", k)
				continue
			}
			compareStructure(path+"."+k, w[k], g[k], problems)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				bad("extra key %q", k)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			bad("got %v, recorded %v", got, w)
			return
		}
		for i := range w {
			compareStructure(path+"["+strconv.Itoa(i)+"]", w[i], g[i], problems)
		}
	case string:
		g, ok := got.(string)
		switch {
		case !ok:
			bad("got %T, recorded a string", got)
		case strings.HasSuffix(path, ".id") && looksLikeUUID(w):
			// a generated id
		case strings.HasSuffix(path, ".message"):
			if !strings.HasPrefix(g, w) {
				bad("message %q, recorded %q", g, w)
			}
		case g != w:
			bad("%q, recorded %q", g, w)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			bad("got %T, recorded a number", got)
			return
		}
		if strings.HasSuffix(path, "serverTime") || strings.HasSuffix(path, "totalTime") {
			return
		}
		wf, _ := w.Float64()
		gf, _ := g.Float64()
		if wf != gf {
			bad("%s, recorded %s", g, w)
		}
	default:
		if got != want {
			bad("%v, recorded %v", got, want)
		}
	}
}

func TestBodyOverLimit(t *testing.T) {
	t.Parallel()
	// The original crashes on an 11 MiB body (NETRON-WIRE.md §13.4); the
	// default limit answers 413 with the §11.1 wording.
	s := startServer(t, "")
	c := client(t)
	body := `{"id":"big","service":"calculator","method":"add","input":["` + strings.Repeat("x", 11<<20) + `"]}`
	r := post(t, c, s.addr+"/netron/invoke", body)
	if r.status != 413 || errorOf(t, r)["message"] != "Request body too large (max: 10485760 bytes)" || errorOf(t, r)["code"] != "413" {
		t.Fatalf("%d %s", r.status, r.body)
	}
}
