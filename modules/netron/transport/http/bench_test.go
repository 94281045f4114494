package httptransport_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkInvokeAdd measures POST /netron/invoke of calculator.add over a
// real loopback connection (keep-alive).
func BenchmarkInvokeAdd(b *testing.B) {
	s := startServer(b, "")
	c := client(b)
	url := s.addr + "/netron/invoke"
	const body = `{"id":"b","service":"calculator@1.0.0","method":"add","input":[1,2]}`
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkHandlerInvokeAdd measures the handler alone, without the network.
func BenchmarkHandlerInvokeAdd(b *testing.B) {
	s := startServer(b, "")
	h := handlerOf(b, s)
	const body = `{"id":"b","service":"calculator@1.0.0","method":"add","input":[1,2]}`
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "/netron/invoke", strings.NewReader(body))
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			b.Fatalf("status %d: %s", rec.status, rec.body.String())
		}
	}
}
