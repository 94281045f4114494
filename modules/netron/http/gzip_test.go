package http_test

import (
	"context"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

type bulky struct{}

func (bulky) Text(_ context.Context, n int) (string, error) { return strings.Repeat("titan ", n), nil }

func (bulky) Lines(_ context.Context, n int) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for range n {
			if !yield(strings.Repeat("x", 600), nil) {
				return
			}
		}
	}
}

// JSON answers of 1 KiB or more are gzipped for clients that ask; small
// ones, clients that do not ask, and streams are not.
func TestGzip(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("bulky", "1.0.0", bulky{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // see the encoding as sent
	post := func(path, body, accept string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	invoke := func(n string) string {
		return `{"id":"1","service":"bulky@1.0.0","method":"text","input":[` + n + `]}`
	}
	if resp, b := post("/netron/invoke", invoke("1000"), "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || len(b) > 1000 {
		t.Errorf("a 6 KB answer: Content-Encoding %q, %d bytes on the wire", resp.Header.Get("Content-Encoding"), len(b))
	}
	if resp, _ := post("/netron/invoke", invoke("1000"), ""); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a client that does not ask: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	if resp, _ := post("/netron/invoke", invoke("3"), "gzip"); resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a small answer: Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	req, _ := http.NewRequest(http.MethodPost, addr+"/rpc/bulky/lines", strings.NewReader(`[5]`))
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || strings.Count(string(b), "xxxxxxxxxx") < 5 {
		t.Errorf("a stream: Content-Encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(b))
	}
	// netron.Dial("http://…") asks and reads the answer the same.
	p, err := netron.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r, err := p.Call(context.Background(), "bulky@1.0.0", "text", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := r.Decode(&s); err != nil || len(s) != 6000 {
		t.Fatalf("through netron.Dial: %d chars, %v", len(s), err)
	}
}
