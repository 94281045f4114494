package httpserve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	for addr, ok := range map[string]bool{":9090": true, "127.0.0.1:9090": true, "[::1]:1": true,
		"9090": false, "127.0.0.1": false, "http://127.0.0.1:9090": false, "": false} {
		if err := CheckAddr(addr); (err == nil) != ok {
			t.Errorf("CheckAddr(%q) = %v", addr, err)
		}
	}
}

func TestStartServeStop(t *testing.T) {
	s, err := Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	}), slog.New(slog.DiscardHandler), "the test server")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(s.Addr(), ":0") {
		t.Fatalf("Addr %s: the port is not resolved", s.Addr())
	}
	resp, err := http.Get("http://" + s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("served %q", b)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err after Stop = %v, want nil", err)
	}
	again, err := Start(s.Addr(), http.NotFoundHandler(), slog.New(slog.DiscardHandler), "x")
	if err != nil {
		t.Fatalf("the address is not free after Stop: %v", err)
	}
	again.Stop(context.Background())
}
