package http_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

func TestAcceptanceAddAnswers3(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	r := post(t, c, s.addr+"/api/calculator/add", "[1,2]")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "3" {
		t.Fatalf("JSON route: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	r = post(t, c, s.addr+"/netron/invoke", `{"id":"r1","service":"calculator@1.0.0","method":"add","input":[1,2]}`)
	if r.status != 200 {
		t.Fatalf("invoke: %d %s", r.status, r.body)
	}
	m := r.obj(t)
	if m["id"] != "r1" || m["success"] != true || m["data"] != json.Number("3") {
		t.Fatalf("invoke body: %s", r.body)
	}
	if _, ok := m["hints"].(map[string]any)["metrics"].(map[string]any)["serverTime"].(json.Number); !ok {
		t.Fatalf("no serverTime: %s", r.body)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store, no-cache, must-revalidate" {
		t.Errorf("cache-control %q", got)
	}
}

func TestAddrHasBoundPort(t *testing.T) {
	s := startServer(t, "")
	if !strings.HasPrefix(s.addr, "http://127.0.0.1:") || strings.HasSuffix(s.addr, ":0") {
		t.Fatalf("addr %q", s.addr)
	}
}

func TestJSONRoutes(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	tests := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"positional", "/api/calculator/add", "[2.5, 4]", 200, "6.5"},
		{"struct body", "/api/calculator/norm", `{"x":3,"y":4}`, 200, "25"},
		{"struct in array", "/api/calculator/norm", `[{"x":1,"y":2}]`, 200, "5"},
		{"slice argument wrapped", "/api/calculator/summarize", `[[1,2,3]]`, 200, `{"sum":6,"count":3,"avg":2}`},
		{"rpc route", "/rpc/calculator@1.0.0/add", "[1,1]", 200, "2"},
		{"rpc bare name", "/rpc/calculator/add", "[1,2]", 200, "3"},
		{"rpc range", "/rpc/calculator@%5E1/add", "[2,2]", 200, "4"},
		{"stream default array", "/api/calculator/count", "[3]", 200, "[0,1,2]"},
		{"stream single arg", "/api/calculator/count", "2", 200, "[0,1]"},
		{"empty stream", "/api/calculator/count", "[0]", 200, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, c, s.addr+tt.path, tt.body)
			if r.status != tt.status || string(r.body) != tt.want {
				t.Fatalf("%s %s: %d %s, want %d %s", tt.path, tt.body, r.status, r.body, tt.status, tt.want)
			}
		})
	}
}

func TestVoidMethod(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	r := post(t, c, s.addr+"/api/calculator/reset", "")
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("JSON route: %d %q", r.status, r.body)
	}
	<-s.calc.resets
	r = post(t, c, s.addr+"/netron/invoke", `{"id":"v","service":"calculator","method":"reset","input":[]}`)
	m := r.obj(t)
	if r.status != 200 || m["success"] != true {
		t.Fatalf("invoke: %d %s", r.status, r.body)
	}
	if _, has := m["data"]; has {
		t.Fatalf("void result has data: %s", r.body)
	}
}

func TestErrors(t *testing.T) {
	s := startServer(t, "?maxBody=100")
	c := client(t)
	tests := []struct {
		name, path, body string
		status           int
		code, goCode     string
		message          string // prefix
		requestID        bool   // a request-level error: X-Request-ID is the body id
	}{
		{"div by zero", "/api/calculator/div", "[1,0]", 400, "400", "invalid_argument", "division by zero", true},
		{"div by zero invoke", "/netron/invoke", `{"id":"d","service":"calculator@1.0.0","method":"div","input":[1,0]}`, 400, "400", "invalid_argument", "division by zero", false},
		{"contract violation", "/api/calculator/add", `["x",1]`, 400, "400", "invalid_argument", "", true},
		{"unknown service", "/netron/invoke", `{"id":"g","service":"ghost@1.0.0","method":"x","input":[]}`, 404, "404", "not_found", "Service ghost@1.0.0 not found", false},
		{"unknown method", "/netron/invoke", `{"id":"n","service":"calculator@1.0.0","method":"nope","input":[]}`, 404, "404", "not_found", "Method nope not found in service calculator@1.0.0", false},
		{"non-public method", "/netron/invoke", `{"id":"n","service":"calculator@1.0.0","method":"secret","input":[]}`, 404, "404", "not_found", "Method secret not found", false},
		{"unknown route method", "/api/calculator/nope", "[]", 404, "404", "not_found", `service calculator@1.0.0 has no method "nope" (it has: add, count, countThenFail, div, norm, reset, sleep, summarize)`, true},
		{"unknown rpc service", "/rpc/ghost@1.0.0/add", "[]", 404, "404", "not_found", `no service matches "ghost@1.0.0" (the server has: calculator@1.0.0)`, true},
		{"unknown route", "/api/other/add", "[]", 404, "404", "not_found", "Not found", true},
		{"malformed JSON route", "/api/calculator/add", "[1,", 400, "400", "invalid_argument", "Invalid JSON: unexpected end of JSON input", true},
		{"trailing data", "/api/calculator/add", "[1,2] x", 400, "400", "invalid_argument", "Invalid JSON", true},
		{"object for two args", "/api/calculator/add", `{"a":1}`, 400, "400", "invalid_argument", "Invalid request body: want a JSON array of the 2 arguments", true},
		{"malformed JSON invoke", "/netron/invoke", "{not json", 400, "400", "invalid_argument", "Invalid JSON: invalid character 'n'", true},
		{"missing input", "/netron/invoke", `{"id":"m","service":"calculator","method":"add"}`, 400, "400", "invalid_argument", "Invalid request format", true},
		{"id not a string", "/netron/invoke", `{"id":1,"service":"calculator","method":"add","input":[]}`, 400, "400", "invalid_argument", "Invalid request format", true},
		{"body over limit", "/api/calculator/add", "[" + strings.Repeat("1,", 60) + "1]", 413, "413", "resource_exhausted", "Request body too large (max: 100 bytes)", true},
		{"body over limit invoke", "/netron/invoke", `{"id":"big","service":"calculator","method":"add","input":["` + strings.Repeat("x", 100) + `"]}`, 413, "413", "resource_exhausted", "Request body too large (max: 100 bytes)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, c, s.addr+tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			e := errorOf(t, r)
			if e["code"] != tt.code || !strings.HasPrefix(e["message"].(string), tt.message) {
				t.Fatalf("error %v, want code %s message %q…", e, tt.code, tt.message)
			}
			if _, ok := e["details"].(map[string]any); !ok {
				t.Fatalf("details not an object: %s", r.body)
			}
			if got := r.header.Get("X-Titan-Code"); got != tt.goCode {
				t.Errorf("X-Titan-Code %q, want %q", got, tt.goCode)
			}
			id := r.obj(t)["id"]
			if rid := r.header.Get("X-Request-ID"); tt.requestID && (rid == "" || id != rid) {
				t.Errorf("X-Request-ID %q, body id %v", rid, id)
			}
		})
	}
	// A GET on a JSON route is 405; an unknown path 404 "Not found".
	if r := do(t, c, http.MethodGet, s.addr+"/api/calculator/add", ""); r.status != 405 {
		t.Errorf("GET JSON route: %d %s", r.status, r.body)
	}
	if r := do(t, c, http.MethodGet, s.addr+"/netron/invoke", ""); r.status != 404 || errorOf(t, r)["message"] != "Not found" {
		t.Errorf("GET /netron/invoke: %d %s", r.status, r.body)
	}
	// A client X-Request-ID is echoed.
	r := post(t, c, s.addr+"/api/calculator/div", "[1,0]", "X-Request-ID", "req-42")
	if r.header.Get("X-Request-ID") != "req-42" || r.obj(t)["id"] != "req-42" {
		t.Errorf("request id not echoed: %v %s", r.header, r.body)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	s := startServer(t, "?timeout=50ms")
	c := client(t)
	r := post(t, c, s.addr+"/netron/invoke", `{"id":"t","service":"calculator","method":"sleep","input":[5000],"hints":{"timeout":30}}`)
	if r.status != 408 || errorOf(t, r)["message"] != "Request timed out after 30ms" {
		t.Fatalf("invoke timeout: %d %s", r.status, r.body)
	}
	r = post(t, c, s.addr+"/api/calculator/sleep", `[5000]`)
	if r.status != 408 || errorOf(t, r)["message"] != "Request timed out after 50ms" {
		t.Fatalf("route timeout: %d %s", r.status, r.body)
	}
	// A positive hint below a millisecond is a millisecond, not a call
	// without a deadline.
	for _, hint := range []string{"1e-7", "0.5"} {
		r = post(t, c, s.addr+"/netron/invoke", `{"id":"t","service":"calculator","method":"sleep","input":[5000],"hints":{"timeout":`+hint+`}}`)
		if r.status != 408 || errorOf(t, r)["message"] != "Request timed out after 1ms" {
			t.Fatalf("invoke timeout %s: %d %s", hint, r.status, r.body)
		}
	}
}

// TestTimeoutHintOnlyShortens: hints.timeout cannot make the gateway hold
// a call longer than its own timeout (WithTimeout), in /netron/invoke or
// in a batch; a hint past it, however large, is the gateway's timeout.
func TestTimeoutHintOnlyShortens(t *testing.T) {
	t.Parallel()
	s := startServer(t, "", httptransport.WithGatewayOptions(httptransport.WithTimeout(50*time.Millisecond)))
	c := client(t)
	for _, hint := range []string{"60000", "86399999", "1e300"} {
		call := `{"id":"t","service":"calculator","method":"sleep","input":[3000],"hints":{"timeout":` + hint + `}}`
		start := time.Now()
		r := post(t, c, s.addr+"/netron/invoke", call)
		if r.status != 408 || errorOf(t, r)["message"] != "Request timed out after 50ms" {
			t.Errorf("invoke with hints.timeout %s, WithTimeout(50ms): %d %s after %v; want 408 after 50ms", hint, r.status, r.body, time.Since(start).Round(time.Millisecond))
		}
		start = time.Now()
		r = post(t, c, s.addr+"/netron/batch", `{"id":"b","requests":[`+call+`]}`)
		if !strings.Contains(string(r.body), "Request timed out after 50ms") {
			t.Errorf("batch with hints.timeout %s, WithTimeout(50ms): %d %s after %v; want the request timed out after 50ms", hint, r.status, r.body, time.Since(start).Round(time.Millisecond))
		}
	}
}

// TestBatchConcurrencyBound: a batch's maxConcurrency lowers the number
// of its requests run at once, and never raises it past the server's 16.
// The calls sleep, so a batch takes at least its rounds' time.
func TestBatchConcurrencyBound(t *testing.T) {
	t.Parallel()
	s := startServer(t, "")
	c := client(t)
	const sleep = 50 // ms, each call
	batch := func(n int, options string) string {
		var b strings.Builder
		b.WriteString(`{"id":"b","requests":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"%d","service":"calculator","method":"sleep","input":[%d]}`, i, sleep)
		}
		b.WriteString(`],"options":` + options + `}`)
		return b.String()
	}
	for _, c2 := range []struct {
		n       int
		options string
		rounds  int
	}{
		{64, `{"maxConcurrency":1000000000}`, 4}, // 16 at a time
		{64, `{}`, 4},
		{8, `{"maxConcurrency":2}`, 4},
	} {
		start := time.Now()
		r := post(t, c, s.addr+"/netron/batch", batch(c2.n, c2.options))
		took := time.Since(start)
		if r.status != 200 || strings.Count(string(r.body), `"success":true`) != c2.n {
			t.Fatalf("%d requests, options %s: %d %s", c2.n, c2.options, r.status, r.body)
		}
		if min := time.Duration(c2.rounds*sleep) * time.Millisecond; took < min {
			t.Errorf("%d requests of %dms, options %s: took %v, want at least %v (%d at a time)", c2.n, sleep, c2.options, took, min, c2.n/c2.rounds)
		}
	}
}

func TestStreams(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	t.Run("sse", func(t *testing.T) {
		r := post(t, c, s.addr+"/api/calculator/count", "[3]", "Accept", "text/event-stream")
		if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%d %v", r.status, r.header)
		}
		want := "data: 0\n\ndata: 1\n\ndata: 2\n\nevent: end\ndata: {\"count\":3}\n\n"
		if string(r.body) != want {
			t.Fatalf("body %q, want %q", r.body, want)
		}
	})
	t.Run("sse error after items", func(t *testing.T) {
		r := post(t, c, s.addr+"/api/calculator/countThenFail", "[2]", "Accept", "text/event-stream")
		events := sseEvents(t, string(r.body))
		if len(events) != 3 || events[0].data != "0" || events[2].event != "error" {
			t.Fatalf("events %+v", events)
		}
		var body struct {
			Success bool
			Error   struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(events[2].data), &body); err != nil || body.Error.Code != "503" || body.Error.Message != "backend gone" {
			t.Fatalf("error event %q: %v", events[2].data, err)
		}
	})
	t.Run("ndjson", func(t *testing.T) {
		r := post(t, c, s.addr+"/api/calculator/count", "[3]", "Accept", "application/x-ndjson")
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" || string(r.body) != "0\n1\n2\n" {
			t.Fatalf("%d %v %q", r.status, r.header, r.body)
		}
	})
	t.Run("ndjson error line", func(t *testing.T) {
		r := post(t, c, s.addr+"/api/calculator/countThenFail", "[1]", "Accept", "application/x-ndjson")
		lines := strings.Split(strings.TrimSuffix(string(r.body), "\n"), "\n")
		if len(lines) != 2 || lines[0] != "0" || !strings.Contains(lines[1], `"code":"503"`) {
			t.Fatalf("lines %q", lines)
		}
	})
	t.Run("error before first item has a status", func(t *testing.T) {
		r := post(t, c, s.addr+"/api/calculator/countThenFail", "[0]", "Accept", "text/event-stream")
		if r.status != 503 || errorOf(t, r)["message"] != "backend gone" {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("invoke drains into an array", func(t *testing.T) {
		r := post(t, c, s.addr+"/netron/invoke", `{"id":"c","service":"calculator@1.0.0","method":"count","input":[3]}`)
		if r.status != 200 || !reflect.DeepEqual(r.obj(t)["data"], []any{json.Number("0"), json.Number("1"), json.Number("2")}) {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
	t.Run("over 10000 items", func(t *testing.T) {
		r := post(t, c, s.addr+"/netron/invoke", `{"id":"c","service":"calculator@1.0.0","method":"count","input":[10001]}`)
		if r.status != 413 || !strings.HasPrefix(errorOf(t, r)["message"].(string), "Async generator exceeded maximum item limit (10000 items)") {
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

type sseEvent struct{ event, data string }

func sseEvents(t *testing.T, body string) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			out = append(out, cur)
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		}
	}
	return out
}

func TestBatch(t *testing.T) {
	s := startServer(t, "")
	c := client(t)
	r := post(t, c, s.addr+"/netron/batch", `{"id":"b1","requests":[
		{"id":"q1","service":"calculator@1.0.0","method":"add","input":[1,2]},
		{"id":"q2","service":"calculator@1.0.0","method":"nope","input":[]},
		{"id":"q3","service":"calculator","method":"div","input":[1,0]},
		{"id":"q4","service":"calculator","method":"reset","input":[]},
		{"id":"q5","service":"calculator","method":"count","input":[2]}]}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := `{"id":"b1","responses":[` +
		`{"id":"q1","success":true,"data":3},` +
		`{"id":"q2","success":false,"error":{"code":"404","message":"Method not found: calculator@1.0.0.nope"}},` +
		`{"id":"q3","success":false,"error":{"code":"400","message":"division by zero"}},` +
		`{"id":"q4","success":true},` +
		`{"id":"q5","success":true,"data":[0,1]}],` +
		`"hints":{"successCount":3,"failureCount":2,"totalTime":`
	if !strings.HasPrefix(string(r.body), want) {
		t.Fatalf("body\n%s\nwant prefix\n%s", r.body, want)
	}
	r = post(t, c, s.addr+"/netron/batch", `{"id":"b2","requests":[
		{"id":"q1","service":"calculator","method":"div","input":[1,0]},
		{"id":"q2","service":"calculator","method":"add","input":[1,2]}],"options":{"parallel":false,"stopOnError":true}}`)
	if m := r.obj(t); len(m["responses"].([]any)) != 1 {
		t.Fatalf("stopOnError: %s", r.body)
	}
	r = post(t, c, s.addr+"/netron/batch", `{"id":"b3","requests":[{"id":"x"}]}`)
	if r.status != 400 || errorOf(t, r)["message"] != "Invalid batch request format" {
		t.Fatalf("invalid batch: %d %s", r.status, r.body)
	}
}

func TestHealthDiscoverMetricsCORS(t *testing.T) {
	s := startServer(t, "?cors=http://app.example&corsCredentials=true")
	c := client(t)
	if r := do(t, c, http.MethodGet, s.addr+"/health", ""); r.status != 200 || string(r.body) != `{"status":"online"}` {
		t.Fatalf("health: %d %s", r.status, r.body)
	}
	r := do(t, c, http.MethodGet, s.addr+"/discover", "")
	if r.status != 200 || !strings.Contains(string(r.body), `"name":"calculator","version":"1.0.0"`) {
		t.Fatalf("discover: %d %s", r.status, r.body)
	}
	if r := do(t, c, http.MethodGet, s.addr+"/metrics", ""); r.status != 401 || r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Fatalf("metrics: %d %s", r.status, r.body)
	}
	r = do(t, c, http.MethodOptions, s.addr+"/api/calculator/add", "", "Origin", "http://app.example", "Access-Control-Request-Method", "POST")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("Access-Control-Max-Age") != "86400" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = post(t, c, s.addr+"/api/calculator/add", "[1,2]", "Origin", "http://app.example")
	if r.header.Get("Access-Control-Allow-Origin") != "http://app.example" {
		t.Fatalf("cors on answer: %v", r.header)
	}
	r = post(t, c, s.addr+"/api/calculator/add", "[1,2]", "Origin", "http://evil.example")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("cors for a foreign origin: %v", r.header)
	}
}

func TestPathPrefix(t *testing.T) {
	s := startServer(t, "?prefix=/gw")
	c := client(t)
	for _, p := range []string{"/gw/api/calculator/add", "/api/calculator/add"} {
		if r := post(t, c, s.addr+p, "[1,2]"); r.status != 200 || string(r.body) != "3" {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
}

func TestListenOptionErrors(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	ctx := context.Background()
	for _, addr := range []string{
		"http://127.0.0.1:0?maxBody=-1",
		"http://127.0.0.1:0?bogus=1",
		"http://127.0.0.1:0?timeout=soon",
		"https://127.0.0.1:0",
		"http://127.0.0.1:0?cert=a.pem",
	} {
		if _, err := n.Listen(ctx, addr); err == nil {
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	// A repeated option would lose its second value without a word.
	if _, err := n.Listen(ctx, "http://127.0.0.1:0?cors=https://a.example&cors=https://b.example"); err == nil ||
		!strings.Contains(err.Error(), `query parameter "cors" is given more than once; give it once, its origins separated by commas`) {
		t.Errorf("Listen with cors given twice: %v, want it refused naming the parameter", err)
	}
	if _, err := httptransport.NewHandler(n, httptransport.WithMaxBodySize(0)); err == nil || !strings.Contains(err.Error(), "WithMaxBodySize") {
		t.Errorf("NewHandler error %v does not name the option", err)
	}
}

func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calculator{}, httptransport.Path("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	defer n.Stop(ctx)
	addr, err := n.Listen(ctx, "https://127.0.0.1:0?cert="+certFile+"&key="+keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "https://127.0.0.1:") {
		t.Fatalf("addr %q", addr)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	r := post(t, c, addr+"/api/calculator/add", "[1,2]")
	if r.status != 200 || string(r.body) != "3" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	// A plain-HTTP request is not served.
	plain := client(t)
	if res := do(t, plain, http.MethodGet, "http://"+strings.TrimPrefix(addr, "https://")+"/health", ""); res.status == 200 {
		t.Fatal("plain HTTP answered by the https gateway")
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// its files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "titan test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestDrain(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calc := &Calculator{sleeping: make(chan struct{}, 1)}
	if err := n.Register("calculator", "1.0.0", calc, httptransport.Path("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	// A slow call is in flight when the gateway starts shutting down.
	type answer struct {
		status int
		body   string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := c.Post(g.Addr()+"/api/calculator/sleep", "application/json", strings.NewReader("[300]"))
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		done <- answer{res.StatusCode, string(b), err}
	}()
	<-calc.sleeping
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- g.Shutdown(ctx)
	}()
	// While it drains, /health says so and requests are refused with 503.
	serve := func(method, path, body string) *recorder {
		rec := &recorder{header: http.Header{}}
		req, _ := http.NewRequest(method, path, strings.NewReader(body))
		g.Handler().ServeHTTP(rec, req)
		return rec
	}
	deadline := time.Now().Add(5 * time.Second)
	for serve(http.MethodGet, "/health", "").status != 503 {
		if time.Now().After(deadline) {
			t.Fatal("/health never reported draining")
		}
		time.Sleep(time.Millisecond)
	}
	if rec := serve(http.MethodGet, "/health", ""); rec.body.String() != `{"status":"draining"}` {
		t.Fatalf("health during drain: %s", rec.body.String())
	}
	if rec := serve(http.MethodPost, "/api/calculator/add", "[1,2]"); rec.status != 503 || !strings.Contains(rec.body.String(), "Server is shutting down") {
		t.Fatalf("during drain: %d %s", rec.status, rec.body.String())
	}
	if a := <-done; a.err != nil || a.status != 200 || a.body != "300" {
		t.Fatalf("in-flight call: %+v", a)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownCancelsRunningCalls: a call still running when the shutdown
// gives up waiting is cancelled.
func TestShutdownCancelsRunningCalls(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calc := &Calculator{sleeping: make(chan struct{}, 1)}
	if err := n.Register("calculator", "1.0.0", calc, httptransport.Path("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	done := make(chan error, 1)
	go func() {
		res, err := c.Post(g.Addr()+"/api/calculator/sleep", "application/json", strings.NewReader("[60000]"))
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		done <- err
	}()
	<-calc.sleeping
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := g.Shutdown(sctx); err == nil {
		t.Fatal("Shutdown reported no request left running")
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the running call was not cancelled")
	}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) { r.status = s }

// Pointy takes a pointer to a struct, whose schema is an object or null.
type Pointy struct{}

func (Pointy) Norm(_ context.Context, p *Point) (float64, error) {
	if p == nil {
		return -1, nil
	}
	return float64(p.X*p.X + p.Y*p.Y), nil
}

// A JSON route of a method taking one pointer to a struct takes the body
// object as that argument, as for a struct; null (in the positional form)
// is a nil pointer.
func TestJSONRouteOfAPointerArgument(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("pointy", "1.0.0", Pointy{}, httptransport.Path("/api/pointy")); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	c := client(t)
	for body, want := range map[string]string{`{"x":3,"y":4}`: "25", `[{"x":1,"y":2}]`: "5", `[null]`: "-1"} {
		r := post(t, c, addr+"/api/pointy/norm", body)
		if r.status != 200 || strings.TrimSpace(string(r.body)) != want {
			t.Fatalf("%s: %d %s, want %s", body, r.status, r.body, want)
		}
	}
	// The OpenAPI document describes the body as the one argument.
	r := do(t, c, http.MethodGet, addr+"/openapi.json", "")
	if r.status != 200 || !strings.Contains(string(r.body), "The method's one argument.") {
		t.Fatalf("openapi: %d, the body is not described as the one argument:\n%s", r.status, r.body)
	}
}

// Mirror answers its argument as it came.
type Mirror struct{}

func (Mirror) Echo(_ context.Context, v any) (any, error) { return v, nil }

// Bytes answers its bytes, their length first.
func (Mirror) Bytes(_ context.Context, b []byte) ([]byte, error) {
	return append([]byte{byte(len(b))}, b...), nil
}

// TestInvokeEnvelope: the invoke body is read as JSON.parse reads it (keys
// match exactly, a repeated key's last value counts, escaped keys are
// keys), and an object argument keeps its key order through the call.
func TestInvokeEnvelope(t *testing.T) {
	s := startServer(t, "")
	if err := s.n.Register("mirror", "1.0.0", Mirror{}); err != nil {
		t.Fatal(err)
	}
	c := client(t)
	for _, tc := range []struct {
		name, body string
		status     int
		want       string // the body's data, as JSON text, or the error message
	}{
		{"repeated id", `{"id":"a","service":"calculator","method":"add","input":[1,2],"id":"b"}`, 200, `"id":"b","success":true,"data":3`},
		{"escaped key and id", `{"\u0069d":"q\"\u00e9","service":"calculator","method":"add","input":[1,2]}`, 200, `"id":"q\"é","success":true,"data":3`},
		{"context and hints", `{"id":"h","service":"calculator","method":"add","input":[1,2],"hints":{"timeout":1000},"context":{"traceId":"t"}}`, 200, `"data":3`},
		{"keys are case-sensitive", `{"ID":"a","service":"calculator","method":"add","input":[1,2]}`, 400, "Invalid request format"},
		{"id must be a string", `{"id":1,"service":"calculator","method":"add","input":[1,2]}`, 400, "Invalid request format"},
		{"a later non-string id", `{"id":"a","service":"calculator","method":"add","input":[1,2],"id":null}`, 400, "Invalid request format"},
		{"input must be present", `{"id":"a","service":"calculator","method":"add"}`, 400, "Invalid request format"},
		{"not an object", `["id","service","method","input"]`, 400, "Invalid request format"},
		{"object key order", `{"id":"o","service":"mirror","method":"echo","input":[{"b":1,"a":{"d":2,"c":[3,{"f":1,"e":2}]},"b":4}]}`, 200,
			`"data":{"b":4,"a":{"d":2,"c":[3,{"f":1,"e":2}]}}`},
		{"single argument", `{"id":"s","service":"mirror","method":"echo","input":"x"}`, 200, `"data":"x"`},
		{"a Buffer for []byte", `{"id":"b","service":"mirror","method":"bytes","input":[{"type":"Buffer","data":[104,105]}]}`, 200, `"data":[2,104,105]`},
		{"not a Buffer for []byte", `{"id":"b","service":"mirror","method":"bytes","input":[{"type":"Buffer","data":[1000]}]}`, 400, "mirror@1.0.0.bytes: argument 1 at /data/0: want at most 255, got 1000"},
		{"an argument as deep as a value alone", `{"id":"d","service":"mirror","method":"echo","input":[` + strings.Repeat("[", 128) + strings.Repeat("]", 128) + `]}`, 200, `"success":true`},
		{"deep input", `{"id":"d","service":"mirror","method":"echo","input":[` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `]}`, 400, "Invalid input"},
	} {
		r := post(t, c, s.addr+"/netron/invoke", tc.body)
		if r.status != tc.status {
			t.Errorf("%s: status %d %s", tc.name, r.status, r.body)
			continue
		}
		if tc.status == 200 {
			if !strings.Contains(string(r.body), tc.want) {
				t.Errorf("%s: body %s, want it to hold %s", tc.name, r.body, tc.want)
			}
			continue
		}
		if msg, _ := errorOf(t, r)["message"].(string); !strings.HasPrefix(msg, tc.want) {
			t.Errorf("%s: message %q, want %q", tc.name, msg, tc.want)
		}
	}
}
