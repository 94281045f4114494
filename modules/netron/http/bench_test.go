package http_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	httptransport "github.com/titanframework/titan/modules/netron/http"
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

// BenchmarkClientAdd measures calculator.add through the Client, over a
// real loopback connection (keep-alive): encoding, net/http both ways, the
// gateway, decoding.
func BenchmarkClientAdd(b *testing.B) {
	s := startServer(b, "")
	c := newClient(b, s.addr)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if sum, err := httptransport.CallUnary[float64](ctx, c, "calculator@1.0.0", "add", 1, 2); err != nil || sum != 3 {
			b.Fatalf("add: %v, %v", sum, err)
		}
	}
}

// BenchmarkClientDecode measures reading an answer: a 32-byte string.
func BenchmarkClientDecode(b *testing.B) {
	body := []byte(`{"id":"hv5siqo5q-1","success":true,"data":"` + strings.Repeat("x", 32) + `","hints":{"metrics":{"serverTime":0}}}`)
	buf := make([]byte, len(body), len(body)+64)
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, body)
		if _, err := httptransport.DecodeAnswer(200, "", buf[:len(body)]); err != nil {
			b.Fatal(err)
		}
	}
}
