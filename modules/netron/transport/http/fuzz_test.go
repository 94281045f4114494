package httptransport_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	httptransport "github.com/titanframework/titan/modules/netron/transport/http"
)

func handlerOf(tb testing.TB, s *server) *httptransport.Handler {
	tb.Helper()
	h, err := httptransport.NewHandler(s.n, httptransport.WithMaxBodySize(1<<16))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// FuzzRequests feeds arbitrary bodies to every POST route: the gateway
// never panics, answers a known status, and every JSON answer is valid
// JSON.
func FuzzRequests(f *testing.F) {
	for _, seed := range []string{
		`{"id":"r","service":"calculator@1.0.0","method":"add","input":[1,2]}`,
		`{"id":"r","service":"calculator","method":"count","input":3}`,
		`{"id":"b","requests":[{"id":"q","service":"calculator","method":"div","input":[1,0]}],"options":{"parallel":false}}`,
		`{"id":"a","credentials":{"token":"x"}}`,
		`[1,2]`, `{"x":1,"y":2}`, `{not json`, `null`, `[[[[[[`, `"\ud800"`, `1e999`, `-0`,
		`{"id":"r","service":"calculator@^1","method":"norm","input":{"x":1e308,"y":-1e308}}`,
	} {
		for _, path := range []string{"/netron/invoke", "/netron/batch", "/netron/authenticate", "/api/calculator/add", "/api/calculator/norm", "/api/calculator/count"} {
			f.Add(path, seed)
		}
	}
	s := startServer(f, "")
	h := handlerOf(f, s)
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n?#%") {
			return
		}
		for _, accept := range []string{"", "text/event-stream"} {
			req, err := http.NewRequest(http.MethodPost, "http://x"+path, strings.NewReader(body))
			if err != nil {
				return
			}
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			rec := &recorder{header: http.Header{}}
			h.ServeHTTP(rec, req)
			if rec.status < 200 || rec.status > 599 {
				t.Fatalf("%s %q: status %d", path, body, rec.status)
			}
			if rec.header.Get("Content-Type") == "application/json" && rec.body.Len() > 0 && !json.Valid([]byte(rec.body.String())) {
				t.Fatalf("%s %q: invalid JSON answer %q", path, body, rec.body.String())
			}
		}
	})
}
