package http_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
		`{"id":"r","service":"nobody","method":"add","input":[1,}`, `{"id":"r","method":"add","input":[1,2}`,
		`{"id":"r","service":"nobody","method":"add","input":[1,]}`, `{"id":"r","method":"add","input":{"a":}}`,
		`{"id":"r","service":"calculator","method":"add","input":[1,2],"hints":{]}`,
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
			// An invoke body that is not JSON, wherever the fault is (the
			// input is checked as it is transcoded, the rest before), is
			// refused as such.
			if path == "/netron/invoke" && len(body) <= 1<<16 && !json.Valid([]byte(body)) &&
				(rec.status != http.StatusBadRequest || !strings.Contains(rec.body.String(), "Invalid JSON")) {
				t.Fatalf("%s %q: HTTP %d %q; want it refused as not JSON", path, body, rec.status, rec.body.String())
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
		{200, "", `{"success":true,"data":[1,}`}, {409, "aborted", `{"success":false,"error":{"code":"409","message":"m"},"data":[}`},
		{200, "", `{"success":false,"error":{"code":"409","message":"m"},"data":{"a":}}`}, {200, "", `{"success":true,"data":1,"x":[}`},
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
		if !json.Valid(body) {
			// Refused as not JSON, wherever the fault is (the data is
			// checked as it is transcoded, the rest before).
			_, want := httptransport.DecodeAnswer(status, goCode, []byte("x"))
			if err == nil || status/100 == 2 && !strings.Contains(err.Error(), "is not a JSON object") || status/100 != 2 && err.Error() != want.Error() {
				t.Fatalf("HTTP %d %q: %v; want it refused as not JSON (%v)", status, body, err, want)
			}
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

// FuzzStreamEvents feeds arbitrary bodies to the client's reader of
// streams answered as Server-Sent Events: it never panics; every item it
// gives decodes; it ends with io.EOF only after an "end" event, else with
// a *netron.Error that says something; the end repeats.
func FuzzStreamEvents(f *testing.F) {
	for _, seed := range []string{
		"data: 1\n\ndata: {\"a\":[1,\"x\",null]}\n\nevent: end\ndata: {\"count\":2}\n\n",
		"data: 0\n\nevent: error\ndata: {\"id\":\"r\",\"success\":false,\"error\":{\"code\":\"503\",\"message\":\"backend gone\",\"details\":{},\"goCode\":\"unavailable\"}}\n\n",
		": comment\r\nretry: 10\r\ndata: \"s\"\r\n\r\n",
		"data: [1,2\n\n", "event: error\ndata: nope\n\n", "data: 1\n", "", "data:" + strings.Repeat("9", 40) + "\n\n", "data:" + strings.Repeat("9", 70) + "\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptransport.NewSSEReader(bytes.NewReader(body), 16, 64) // lines longer than the buffer, and too long
		var end error
		for range 1 + len(body) {
			item, err := r.Next()
			if err != nil {
				end = err
				break
			}
			if _, err := protocol.DecodeValue(item, protocol.Limits{MaxFrameSize: len(item)}); err != nil {
				t.Fatalf("item %x does not decode: %v", item, err)
			}
		}
		if end == nil {
			t.Fatalf("%d bytes gave more items than they have bytes", len(body))
		}
		if errors.Is(end, io.EOF) {
			if !bytes.Contains(body, []byte("event: end")) && !bytes.Contains(body, []byte("event:end")) {
				t.Fatalf("io.EOF without an end event")
			}
		} else if ne := (*netron.Error)(nil); !errors.As(end, &ne) || ne.Message() == "" {
			t.Fatalf("the stream ended with %v (%T)", end, end)
		}
		if _, again := r.Next(); again != end {
			t.Fatalf("the end was %v, then %v", end, again)
		}
		_ = r.Close()
	})
}

// TestSSEFieldValues: a field's value is what follows its colon with one
// leading space removed, as the Server-Sent Events format has it; other
// white space is part of it. Before, the reader trimmed all of it, so
// "event:\fend" (found by FuzzStreamEvents) ended a stream and "data:\f1"
// was an item.
func TestSSEFieldValues(t *testing.T) {
	for _, c := range []struct {
		body  string
		items int
		end   bool // io.EOF after the items, else an error
	}{
		{"data: 1\n\nevent: end\ndata: {\"count\":1}\n\n", 1, true},
		{"data:1\n\nevent:end\ndata:{\"count\":1}\n\n", 1, true},
		{"data: 1 \n\nevent: end\r\ndata: {}\r\n\r\n", 1, true},
		{"event:\fend\ndata:\n\n", 0, false},
		{"event:  end\ndata: {}\n\n", 0, false},
		{"event: end \ndata: {}\n\n", 0, false},
		{"event:\tend\ndata: {}\n\n", 0, false},
		{"data:\f1\n\n", 0, false},
	} {
		r := httptransport.NewSSEReader(strings.NewReader(c.body), 4096, 1<<20)
		items := 0
		var end error
		for {
			if _, end = r.Next(); end != nil {
				break
			}
			items++
		}
		if items != c.items || errors.Is(end, io.EOF) != c.end {
			t.Errorf("%q: %d items, then %v; want %d items and the end %v", c.body, items, end, c.items, c.end)
		}
	}
}
