package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// A call ended by a deadline on the request's context, set outside the
// gateway (a middleware's), is answered deadline_exceeded with a message
// that says so: not the gateway's timeout (http.timeout), which had not
// passed, in /netron/invoke, in each request of a parallel batch, and on
// a method's own route.
func TestMiddlewareDeadlineIsNamed(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	h, err := httptransport.NewHandler(n, httptransport.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 100*time.Millisecond)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()
	c := client(t)
	const want = "Request timed out: the deadline of the request's context passed (one set outside the gateway, such as a middleware's) before the call's own timeout of 10000ms"
	sleep := `{"id":"q","service":"calculator","method":"sleep","input":[5000]}`

	r := post(t, c, srv.URL+"/netron/invoke", sleep)
	if msg := errorOf(t, r)["message"]; r.status != http.StatusRequestTimeout || msg != want {
		t.Errorf("/netron/invoke: %d %q, want 408 %q", r.status, msg, want)
	}
	r = post(t, c, srv.URL+"/api/calculator/sleep", `[5000]`)
	if msg := errorOf(t, r)["message"]; r.status != http.StatusRequestTimeout || msg != want {
		t.Errorf("/api/calculator/sleep: %d %q, want 408 %q", r.status, msg, want)
	}
	r = post(t, c, srv.URL+"/netron/batch", `{"id":"b","requests":[`+strings.Join([]string{sleep, sleep, sleep}, ",")+`],"options":{"parallel":true}}`)
	var got struct {
		Responses []struct {
			Success bool `json:"success"`
			Error   struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || len(got.Responses) != 3 {
		t.Fatalf("batch: %d %s, want 200 with 3 responses", r.status, r.body)
	}
	for i, res := range got.Responses {
		if res.Success || res.Error.Message != want {
			t.Errorf("batch response %d: success %v %q; want %q", i, res.Success, res.Error.Message, want)
		}
	}
}
