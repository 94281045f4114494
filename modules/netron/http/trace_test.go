package http_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

type tracedFail struct{}

func (tracedFail) Fail(context.Context) (int, error) {
	return 0, netron.WithTrace(netron.Errorf(netron.CodeFailedPrecondition, "no"), "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")
}

// An error of a traced call carries the server span's ids as X-Trace-ID
// and X-Span-ID (NETRON-WIRE.md §11.4).
func TestErrorTraceHeaders(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("traced", "1.0.0", tracedFail{}); err != nil {
		t.Fatal(err)
	}
	addr, err := n.Listen(context.Background(), "http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testsrv.HTTPClient.Post(addr+"/netron/invoke", "application/json", strings.NewReader(`{"id":"1","service":"traced@1.0.0","method":"fail","input":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Trace-ID") != "4bf92f3577b34da6a3ce929d0e0e4736" || resp.Header.Get("X-Span-ID") != "00f067aa0ba902b7" {
		t.Fatalf("status %d, X-Trace-ID %q, X-Span-ID %q", resp.StatusCode, resp.Header.Get("X-Trace-ID"), resp.Header.Get("X-Span-ID"))
	}
}
