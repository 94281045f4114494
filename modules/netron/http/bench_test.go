package http_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
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

// benchRecord is a record of a page: the shape of what services send.
type benchRecord struct {
	ID      int64    `json:"id" jsonschema:"minimum=1"`
	Name    string   `json:"name" jsonschema:"minLength=1,maxLength=100"`
	Email   string   `json:"email" jsonschema:"format=email"`
	Score   float64  `json:"score" jsonschema:"minimum=0,maximum=100"`
	Active  bool     `json:"active"`
	Role    string   `json:"role" jsonschema:"enum=admin,enum=member,enum=guest"`
	Tags    []string `json:"tags" jsonschema:"maxItems=20"`
	Address struct {
		City string `json:"city"`
		Zip  string `json:"zip" jsonschema:"pattern=^[0-9]{5}$"`
	} `json:"address"`
}

// benchPage is a page of 50 records.
type benchPage struct {
	Records []benchRecord `json:"records" jsonschema:"maxItems=100"`
}

// Pages echoes pages.
type Pages struct{}

func (Pages) Echo(_ context.Context, p benchPage) (benchPage, error) { return p, nil }

func samplePage() benchPage {
	var p benchPage
	for i := range 50 {
		r := benchRecord{ID: int64(1000 + i), Name: "Ada Lovelace", Email: fmt.Sprintf("ada%d@analytical-engines.example", i),
			Score: 97.25, Active: true, Role: "member", Tags: []string{"mathematics", "engines", "poetry"}}
		r.Address.City, r.Address.Zip = "London", "10001"
		p.Records = append(p.Records, r)
	}
	return p
}

// sameRecord reports whether a and b hold the same values.
func sameRecord(a, b benchRecord) bool {
	return a.ID == b.ID && a.Name == b.Name && a.Email == b.Email && a.Score == b.Score && a.Active == b.Active &&
		a.Role == b.Role && slices.Equal(a.Tags, b.Tags) && a.Address == b.Address
}

// BenchmarkClientPage measures a page of 50 records echoed through the
// Client and the gateway over loopback, its contract validated: JSON both
// ways, transcoded to and from MessagePack on both sides.
func BenchmarkClientPage(b *testing.B) {
	s := startServer(b, "")
	if err := s.n.Register("pages", "1.0.0", Pages{}); err != nil {
		b.Fatal(err)
	}
	c := newClient(b, s.addr)
	ctx := context.Background()
	page := samplePage()
	b.ReportAllocs()
	for b.Loop() {
		out, err := httptransport.CallUnary[benchPage](ctx, c, "pages@1.0.0", "echo", page)
		if err != nil || !slices.EqualFunc(out.Records, page.Records, sameRecord) {
			b.Fatalf("echo: %d records, not the %d sent; %v", len(out.Records), len(page.Records), err)
		}
	}
}
