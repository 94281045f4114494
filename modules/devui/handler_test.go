package devui_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/titantest"
)

// The explorer lists the services with their methods, kinds and
// contracts, in the order of the Go methods' wire names.
func TestServices(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	a := get(t, base+"api/services", "")
	if a.status != 200 {
		t.Fatalf("GET api/services: %d %s", a.status, a.body)
	}
	var services []devui.Service
	if err := json.Unmarshal(a.body, &services); err != nil {
		t.Fatal(err)
	}
	if len(services) != 1 || services[0].Name != "calc" || services[0].Version != "1.0.0" || services[0].ID == "" {
		t.Fatalf("services: %+v", services)
	}
	byName := map[string]devui.Method{}
	var names []string
	for _, m := range services[0].Methods {
		byName[m.Name] = m
		names = append(names, m.Name)
	}
	if want := []string{"add", "count", "countThenFail", "div", "mirror", "reset", "ticks"}; !slices.Equal(names, want) {
		t.Errorf("methods %v, want %v", names, want)
	}
	if m := byName["count"]; !m.Stream || m.Void {
		t.Errorf("count: %+v, want a stream", m)
	}
	if m := byName["reset"]; !m.Void || m.Output != nil {
		t.Errorf("reset: %+v, want void without an output schema", m)
	}
	var in struct {
		PrefixItems []struct {
			Type  string `json:"type"`
			Title string `json:"title"`
		} `json:"prefixItems"`
	}
	if err := json.Unmarshal(byName["add"].Input, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.PrefixItems) != 2 || in.PrefixItems[0].Title != "a" || in.PrefixItems[1].Type != "number" {
		t.Errorf("add's input schema: %s", byName["add"].Input)
	}
	if !strings.Contains(string(byName["mirror"].Output), `"label"`) {
		t.Errorf("mirror's output schema: %s", byName["mirror"].Output)
	}

	info := get(t, base+"api/info", "").object(t)
	if info["app"] != "this app" || info["id"] == "" || info["remote"] != false || info["patterns"] != true {
		t.Errorf("api/info: %v", info)
	}
}

// The tester calls through the Netron: results, the method's errors with
// their codes, and the contract's and the engine's refusals.
func TestCall(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	tests := []struct {
		name    string
		method  string
		args    []any
		status  int
		result  string // JSON
		code    string
		message string
	}{
		{"add", "add", []any{2, 3}, 200, "5", "", ""},
		{"struct argument", "mirror", []any{map[string]any{"x": 1, "y": 2, "label": "p"}}, 200, `{"x":2,"y":1,"label":"p mirrored"}`, "", ""},
		{"void", "reset", nil, 200, "null", "", ""},
		{"the method's error", "div", []any{1, 0}, 400, "", "invalid_argument", "division by zero"},
		{"the contract", "add", []any{"two", 3}, 400, "", "invalid_argument", "argument 1 (a)"},
		{"too few arguments", "add", []any{2}, 400, "", "invalid_argument", ""},
		{"a stream", "count", []any{3}, 400, "", "invalid_argument", "stream method"},
		{"no such method", "nope", nil, 404, "", "not_found", "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, base, "", "calc@1.0.0", tt.method, tt.args...)
			if tt.code != "" {
				a.wantError(t, tt.status, tt.code, tt.message)
				return
			}
			if a.status != tt.status {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			var got struct {
				Result json.RawMessage `json:"result"`
				MS     *int            `json:"ms"`
			}
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			if string(got.Result) != tt.result || got.MS == nil {
				t.Errorf("answer %s, want result %s and ms", a.body, tt.result)
			}
		})
	}
	call(t, base, "", "nosuch@1.0.0", "add", 1, 2).wantError(t, 404, "not_found", "nosuch")
	// A range resolves as over any transport.
	if a := call(t, base, "", "calc@^1", "add", 1, 2); a.status != 200 {
		t.Errorf("calc@^1: %d %s", a.status, a.body)
	}
}

// A stream's items come one line each, then its end; the tester's bounds
// stop a stream, saying which.
func TestStream(t *testing.T) {
	t.Parallel()
	_, base := startUI(t, "devui.maxStreamItems=5", "devui.timeout=400ms")
	stream := func(method string, args ...any) answer {
		b, _ := json.Marshal(map[string]any{"service": "calc@1.0.0", "method": method, "args": args})
		return post(t, base+"api/stream", string(b))
	}

	a := stream("count", 3)
	if a.status != 200 || a.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("count: %d %s %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	ls := lines(t, a)
	if len(ls) != 4 || ls[0]["item"] != 0.0 || ls[2]["item"] != 2.0 || ls[3]["end"] != true || ls[3]["items"] != 3.0 || ls[3]["stopped"] != nil {
		t.Errorf("count 3: %s", a.body)
	}

	ls = lines(t, stream("ticks", 0))
	if last := ls[len(ls)-1]; len(ls) != 6 || last["end"] != true || !strings.Contains(fmt.Sprint(last["stopped"]), "at most 5 items") {
		t.Errorf("an endless stream, at most 5 items: %v", ls)
	}

	ls = lines(t, stream("ticks", 100))
	if last := ls[len(ls)-1]; last["end"] != true || !strings.Contains(fmt.Sprint(last["stopped"]), "devui.timeout") || len(ls) > 6 {
		t.Errorf("a slow stream, 400ms: %v", ls)
	}

	ls = lines(t, stream("countThenFail", 2))
	if last := ls[len(ls)-1]; len(ls) != 3 || last["items"] != 2.0 {
		t.Errorf("countThenFail: %v", ls)
	} else if e, _ := last["error"].(map[string]any); e["code"] != "failed_precondition" || e["message"] != "no more numbers" {
		t.Errorf("countThenFail's error: %v", last)
	}

	stream("count", "three").wantError(t, 400, "invalid_argument", "argument 1")
	stream("add", 1, 2).wantError(t, 400, "invalid_argument", "not a stream method")
}

// What the API refuses before calling anything.
func TestRequestsRefused(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	tests := []struct {
		name    string
		req     func() answer
		status  int
		code    string
		message string
	}{
		{"a body over 1 MiB", func() answer {
			return post(t, base+"api/call", `{"service":"calc@1.0.0","method":"add","args":["`+strings.Repeat("x", devui.MaxBody)+`"]}`)
		}, 413, "resource_exhausted", "larger than 1048576 bytes"},
		{"not JSON", func() answer { return post(t, base+"api/call", `{"service":`) }, 400, "invalid_argument", "not {"},
		{"unknown key", func() answer { return post(t, base+"api/call", `{"service":"calc","method":"add","argz":[]}`) }, 400, "invalid_argument", "argz"},
		{"no service", func() answer { return post(t, base+"api/call", `{"method":"add"}`) }, 400, "invalid_argument", "names no service"},
		{"args not an array", func() answer {
			return post(t, base+"api/call", `{"service":"calc@1.0.0","method":"add","args":{"a":1}}`)
		}, 400, "invalid_argument", "JSON array"},
		{"a form", func() answer {
			return post(t, base+"api/call", `service=calc`, "Content-Type", "application/x-www-form-urlencoded")
		}, 400, "invalid_argument", "application/json"},
		{"another origin", func() answer {
			return post(t, base+"api/call", `{"service":"calc@1.0.0","method":"add","args":[1,2]}`, "Origin", "http://evil.example")
		}, 403, "permission_denied", "evil.example"},
		{"another site", func() answer {
			return post(t, base+"api/call", `{"service":"calc@1.0.0","method":"add","args":[1,2]}`, "Sec-Fetch-Site", "cross-site")
		}, 403, "permission_denied", "another site"},
		{"GET a call", func() answer { return get(t, base+"api/call", "") }, 405, "unimplemented", "use POST"},
		{"POST a list", func() answer { return post(t, base+"api/services", `{}`) }, 405, "unimplemented", "use GET"},
		{"no such page", func() answer { return get(t, base+"api/nope", "") }, 404, "not_found", "api/nope"},
		{"no such file", func() answer { return get(t, base+"assets/nope.js", "") }, 404, "not_found", "assets/nope.js"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req().wantError(t, tt.status, tt.code, tt.message)
		})
	}
}

// The page and its assets, with the headers that keep it to its origin.
func TestPage(t *testing.T) {
	t.Parallel()
	app, base := startUI(t)
	a := get(t, base, "")
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(string(a.body), `src="assets/devui.js"`) {
		t.Fatalf("GET %s: %d %s", base, a.status, a.header)
	}
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, f := range []string{"assets/devui.js", "assets/devui.css"} {
		a := get(t, base+f, "")
		if a.status != 200 || len(a.body) < 1000 {
			t.Errorf("GET %s: %d, %d bytes", f, a.status, len(a.body))
		}
		req, _ := http.NewRequest(http.MethodGet, base+f, nil)
		req.Header.Set("If-None-Match", a.header.Get("ETag"))
		if again := do(t, req); again.status != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", f, again.status)
		}
	}
	// Without the slash, the page's relative URLs would miss: redirected.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(strings.TrimSuffix(base, "/"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != devui.BasePath {
		t.Errorf("GET /_titan: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The metrics module's endpoints beside it still answer.
	if a := get(t, app.Addr(t, "http")+"/_titan/healthz", ""); a.status != 200 || !strings.Contains(string(a.body), "healthy") {
		t.Errorf("/_titan/healthz beside the UI: %d %s", a.status, a.body)
	}
}

// Off (the default), the app serves no UI; devui.listen moves it to a
// server of its own.
func TestOffAndListen(t *testing.T) {
	t.Parallel()
	off := titanApp(t, "netron.listen=http://127.0.0.1:0")
	if a := get(t, off.Addr(t, "http")+devui.BasePath, ""); a.status != 404 {
		t.Errorf("UI off: GET /_titan/ = %d, want 404", a.status)
	}

	port := freePort(t)
	own := titanApp(t, "netron.listen=http://127.0.0.1:0", "devui.enabled=true", fmt.Sprintf("devui.listen=127.0.0.1:%d", port))
	if a := get(t, own.Addr(t, "http")+devui.BasePath, ""); a.status != 404 {
		t.Errorf("devui.listen set: the app's http:// listener serves the UI too (%d)", a.status)
	}
	ui := fmt.Sprintf("http://127.0.0.1:%d", port)
	if a := get(t, ui+devui.BasePath+"api/services", ""); a.status != 200 || !strings.Contains(string(a.body), `"calc"`) {
		t.Errorf("the UI's own server: %d %s", a.status, a.body)
	}
	if a := call(t, ui+devui.BasePath, "", "calc@1.0.0", "add", 1, 2); a.status != 200 {
		t.Errorf("a call on the UI's own server: %d %s", a.status, a.body)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(ui + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != devui.BasePath {
		t.Errorf("GET / on the UI's server: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// A devui section its schema refuses fails start-up, naming the key
// (config_test.go has the checks the module makes itself).
func TestBadConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ set, want string }{
		{"devui.maxStreamItems=0", "devui.maxStreamItems"},
		{"devui.enabled=maybe", "devui.enabled"},
		{"devui.timeout=soon", "devui.timeout"},
	} {
		err := titanNew(tt.set).Err()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.set, err, tt.want)
		}
	}
}

// The peers and the metrics of the app.
func TestPeersAndMetrics(t *testing.T) {
	t.Parallel()
	app, base := startUI(t, "netron.listen=http://127.0.0.1:0,tcp://127.0.0.1:0")
	p := titantest.Dial(t, app.Addr(t, "tcp"))
	if _, err := p.Call(t.Context(), "calc@1.0.0", "add", 1, 2); err != nil {
		t.Fatal(err)
	}
	call(t, base, "", "calc@1.0.0", "div", 1, 0)

	var peers []devui.PeerInfo
	if err := json.Unmarshal(get(t, base+"api/peers", "").body, &peers); err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].Transport != "tcp" || !peers[0].Connected || peers[0].Dialled || peers[0].ID == "" {
		t.Errorf("peers %+v, want the tcp client that dialled the app", peers)
	}

	var g devui.Glance
	if err := json.Unmarshal(get(t, base+"api/metrics", "").body, &g); err != nil {
		t.Fatal(err)
	}
	if !g.Available || len(g.Figures) == 0 {
		t.Fatalf("metrics: %+v", g)
	}
	calls := map[string]devui.CallFigures{}
	for _, c := range g.Calls {
		calls[c.Service+"."+c.Method] = c
	}
	if c := calls["calc.add"]; c.OK < 1 || c.Started < 1 {
		t.Errorf("calc.add: %+v", c)
	}
	if c := calls["calc.div"]; c.Failed < 1 || c.Codes["invalid_argument"] < 1 {
		t.Errorf("calc.div: %+v", c)
	}

	_, off := startUI(t, "metrics.enabled=false")
	if err := json.Unmarshal(get(t, off+"api/metrics", "").body, &g); err != nil {
		t.Fatal(err)
	}
	if g.Available || !strings.Contains(g.Reason, "metrics.enabled") {
		t.Errorf("metrics off: %+v", g)
	}
}

// A stream's items reach the page as the method yields them, not all at
// the end.
func TestStreamItemsArriveOneByOne(t *testing.T) {
	t.Parallel()
	_, base := startUI(t, "devui.maxStreamItems=4")
	start := time.Now()
	res, err := testsrv.HTTPClient.Post(base+"api/stream", "application/json",
		strings.NewReader(`{"service":"calc@1.0.0","method":"ticks","args":[150]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	var at []time.Duration
	for lines.Scan() {
		at = append(at, time.Since(start))
	}
	// 4 items, 150 ms apart, then the end when the 5th comes.
	if len(at) != 5 || at[4]-at[0] < 400*time.Millisecond {
		t.Errorf("lines arrived at %v, want 5 lines, the first well before the last", at)
	}
}

// Under a gateway's path prefix the page and its API answer there too:
// the page refers to them by relative URLs.
func TestUnderPathPrefix(t *testing.T) {
	t.Parallel()
	app, _ := startUI(t, "netron.listen=http://127.0.0.1:0?prefix=/rpc")
	base := app.Addr(t, "http") + "/rpc" + devui.BasePath
	if a := get(t, base, ""); a.status != 200 || !strings.Contains(string(a.body), `href="assets/devui.css"`) {
		t.Errorf("GET %s: %d", base, a.status)
	}
	if a := call(t, base, "", "calc@1.0.0", "add", 1, 2); a.status != 200 || !strings.HasPrefix(string(a.body), `{"result":3,`) {
		t.Errorf("a call under /rpc: %d %s", a.status, a.body)
	}
}

// HEAD of each GET of the API answers as the GET does, without the body,
// as net/http's ServeMux serves HEAD for a GET pattern: a monitor or a
// proxy that checks a URL with HEAD is not told 405.
func TestHeadOfTheAPI(t *testing.T) {
	t.Parallel()
	_, base := startUI(t)
	for _, path := range []string{"api/info", "api/services", "api/peers", "api/metrics", "api/events"} {
		g := get(t, base+path, "")
		req, err := http.NewRequest(http.MethodHead, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := do(t, req)
		if h.status != g.status || h.header.Get("Content-Type") != g.header.Get("Content-Type") || len(h.body) != 0 {
			t.Errorf("HEAD %s: %d %q, %d bytes; GET: %d %q", path, h.status, h.header.Get("Content-Type"), len(h.body), g.status, g.header.Get("Content-Type"))
		}
	}
}
