package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// A stream call answered with an error body larger than the client's
// limit (WithMaxResponseSize) fails resource_exhausted naming the limit,
// as a unary call's answer does: not with an error made from the first
// bytes of the body, cut at the limit.
func TestStreamErrorAnswerOverLimit(t *testing.T) {
	body := `{"id":"x","success":false,"error":{"code":"internal","message":"` + strings.Repeat("x", 200) + `"}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, httptransport.WithMaxResponseSize(64))
	_, err := c.Stream(context.Background(), "calculator", "count", 3)
	if netron.CodeOf(err) != netron.CodeResourceExhausted || err == nil || !strings.Contains(err.Error(), "exceeds the limit of 64 (WithMaxResponseSize)") {
		t.Fatalf("Stream: %v, want resource_exhausted naming the limit of 64 (WithMaxResponseSize)", err)
	}
}
