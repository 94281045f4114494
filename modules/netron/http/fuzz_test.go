package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/protocol"
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

// FuzzDecodeAnswer feeds arbitrary answers to the client's reader of
// /netron/invoke answers: it never panics; it gives a *netron.Error that
// says something, or a result that decodes, never both; a success has no
// error object and an HTTP 2xx status.
func FuzzDecodeAnswer(f *testing.F) {
	for _, seed := range []struct {
		status int
		code   string
		body   string
	}{
		{200, "", `{"id":"x","success":true,"data":{"a":[1,2.5,"s",null,true]},"hints":{"metrics":{"serverTime":0}}}`},
		{200, "", `{"id":"x","success":true}`},
		{409, "aborted", `{"id":"x","success":false,"error":{"code":"409","message":"m","details":{"k":[1]}}}`},
		{401, "", `{"success":false,"error":{"code":"SESSION_EXPIRED","message":"e","details":{"errorCode":"SESSION_EXPIRED"}}}`},
		{500, "", `{"error":true,"message":"boom","code":"500","timestamp":1}`},
		{502, "", `<html>`}, {200, "", `[]`}, {200, "", ``}, {204, "", `{"success":true,"data":"\ud800"}`},
		{200, "", `{"success":true,"data":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`},
	} {
		f.Add(seed.status, seed.code, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, status int, goCode string, body []byte) {
		b := make([]byte, len(body), len(body)+64) // spare room, where the result goes
		copy(b, body)
		raw, err := httptransport.DecodeAnswer(status, goCode, b)
		if !bytes.Equal(b, body) {
			t.Fatalf("the answer changed: %q", b)
		}
		if err != nil {
			var ne *netron.Error
			if raw != nil || !errors.As(err, &ne) || ne.Message() == "" {
				t.Fatalf("error %v (%T) with result %x", err, err, raw)
			}
			return
		}
		if status/100 != 2 {
			t.Fatalf("HTTP %d answered as a success", status)
		}
		if raw != nil {
			if _, err := protocol.DecodeValue(raw, protocol.Limits{MaxFrameSize: len(raw)}); err != nil {
				t.Fatalf("result %x does not decode: %v", raw, err)
			}
		}
	})
}
