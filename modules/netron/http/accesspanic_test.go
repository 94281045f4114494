package http_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// panicAccess panics in Identify on the token "boom", and in Visible for
// the caller of the token "blind"; it lets anyone else call anything.
type panicAccess struct{}

type blindKey struct{}

func (panicAccess) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	switch c.Token {
	case "boom":
		panic("the app's access policy failed in Identify")
	case "blind":
		return context.WithValue(ctx, blindKey{}, true), nil
	}
	return ctx, nil
}

func (panicAccess) Visible(ctx context.Context, _ *netron.MethodSpec) bool {
	if ctx.Value(blindKey{}) != nil {
		panic("the app's access policy failed in Visible")
	}
	return true
}

// The gateway asks the app's Access outside the engine's recover: a panic
// there is answered 500 internal with the usual error body and logged with
// its stack through the app's logger, where net/http cut the connection
// without an answer and logged nowhere; in a parallel batch, whose
// requests run on goroutines of their own, it ended the process. The
// gateway goes on serving.
func TestPanickingAccess(t *testing.T) {
	var logs testsrv.LogBuffer
	n, err := netron.New(netron.Config{}, slog.New(slog.NewTextHandler(&logs, nil)), netron.WithAccess(panicAccess{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	addr := listenGateway(t, n).Addr()
	c := client(t)
	send := func(method, path, token, body string) (int, http.Header, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, addr+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(httptransport.TitanPeerHeader, "1")
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s with the token %q: %v, want an answer", method, path, token, err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("%s %s with the token %q: read the answer: %v", method, path, token, err)
		}
		return res.StatusCode, res.Header, string(b)
	}
	for _, tc := range []struct {
		name, method, path, token, body string
	}{
		{"Identify on invoke", http.MethodPost, "/netron/invoke", "boom", `{"id":"1","service":"calculator@1.0.0","method":"add","input":[1,2]}`},
		{"Identify on a route", http.MethodPost, "/api/calculator/add", "boom", `[1,2]`},
		{"Visible on discover", http.MethodGet, "/discover", "blind", ""},
		{"Visible on openapi", http.MethodGet, "/openapi.json", "blind", ""},
		{"Visible on not found", http.MethodPost, "/netron/invoke", "blind", `{"id":"1","service":"nope@1.0.0","method":"add","input":[]}`},
	} {
		status, hd, body := send(tc.method, tc.path, tc.token, tc.body)
		if status != http.StatusInternalServerError || hd.Get("X-Titan-Code") != "internal" ||
			!strings.Contains(body, `"success":false`) || !strings.Contains(body, `"message":"internal error"`) {
			t.Errorf("%s: %d %s %s, want 500 internal with the error body", tc.name, status, hd.Get("X-Titan-Code"), body)
		}
	}

	// A parallel batch: the request whose not_found error asks Visible
	// fails internal, the others are answered.
	status, _, body := send(http.MethodPost, "/netron/batch", "blind", `{"id":"b","requests":[`+
		`{"id":"1","service":"nope@1.0.0","method":"add","input":[]},`+
		`{"id":"2","service":"calculator@1.0.0","method":"add","input":[1,2]}]}`)
	if status != http.StatusOK || !strings.Contains(body, `{"id":"1","success":false,"error":{"code":"500","message":"internal error"}}`) ||
		!strings.Contains(body, `{"id":"2","success":true,"data":3}`) {
		t.Errorf("batch: %d %s, want 200 with request 1 internal and request 2 answered", status, body)
	}

	if status, _, body := send(http.MethodPost, "/api/calculator/add", "anyone", `[1,2]`); status != http.StatusOK || body != "3" {
		t.Errorf("a call after the panics: %d %s, want 200 3", status, body)
	}
	if log := logs.String(); !strings.Contains(log, "the app's access policy failed in Identify") ||
		!strings.Contains(log, "the app's access policy failed in Visible") || !strings.Contains(log, "runtime/debug.Stack") {
		t.Errorf("the log does not hold the panics with their stacks:\n%s", log)
	}
}
