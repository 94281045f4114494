package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// authGateway serves POST /netron/authenticate with auth on a Netron whose
// TaskTimeout is 200 ms, and returns the gateway's base URL.
func authGateway(t *testing.T, auth netron.Authenticator) string {
	t.Helper()
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gw, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0", httptransport.WithAuthenticator(auth))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = gw.Shutdown(ctx)
		_ = n.Stop(ctx)
	})
	return gw.Addr()
}

// authenticate posts credentials and returns the status, the decoded
// answer and how long it took.
func authenticate(t *testing.T, base string) (int, map[string]any, time.Duration) {
	t.Helper()
	start := time.Now()
	res, err := client(t).Post(base+"/netron/authenticate", "application/json", bytes.NewReader([]byte(`{"id":"a1","credentials":{"token":"t"}}`)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("answer %d %s: %v", res.StatusCode, body, err)
	}
	return res.StatusCode, got, took
}

// An authenticator gets the Netron's TaskTimeout, as the engine's
// authenticate task does: one that waits for its context, or one that
// ignores it, is answered as a failed authentication that names the limit
// and its key, in about that time.
func TestAuthenticateTimesOut(t *testing.T) {
	for _, tt := range []struct {
		name string
		auth func(release <-chan struct{}) netron.Authenticator
	}{
		{"waits for its context", func(<-chan struct{}) netron.Authenticator {
			return func(ctx context.Context, _ *netron.Peer, _ any) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
		}},
		{"ignores its context", func(release <-chan struct{}) netron.Authenticator {
			return func(context.Context, *netron.Peer, any) (any, error) {
				<-release
				return map[string]any{"success": true}, nil
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			base := authGateway(t, tt.auth(release))
			// Before the gateway's shutdown, which waits for an
			// authenticator that ignores its context.
			t.Cleanup(func() { close(release) })
			status, got, took := authenticate(t, base)
			result, _ := got["result"].(map[string]any)
			msg, _ := result["error"].(string)
			if status != http.StatusOK || result["success"] != false ||
				!strings.Contains(msg, "did not finish within 200ms (netron.taskTimeout)") {
				t.Errorf("answer %d %v, want 200 with a failed authentication naming netron.taskTimeout", status, got)
			}
			if took > 5*time.Second {
				t.Errorf("answered after %v, the authenticator's time is 200ms", took)
			}
		})
	}
}

// A panicking authenticator is answered as an internal error, and the
// gateway goes on answering.
func TestAuthenticatorPanicIsAnInternalError(t *testing.T) {
	var calls atomic.Int32
	base := authGateway(t, func(context.Context, *netron.Peer, any) (any, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return map[string]any{"success": true}, nil
	})
	status, got, _ := authenticate(t, base)
	if status != http.StatusInternalServerError || !strings.Contains(strings.ToLower(toJSON(t, got)), "internal error") {
		t.Errorf("panicking authenticator: %d %v, want 500 internal error", status, got)
	}
	status, got, _ = authenticate(t, base)
	if result, _ := got["result"].(map[string]any); status != http.StatusOK || result["success"] != true {
		t.Errorf("after a panic: %d %v, want 200 with success", status, got)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The connection of an authentication answered past its time stays busy
// until the authenticator returns: the answer closes it, so that the
// client's next request goes on another instead of waiting there.
func TestAuthenticateTimeoutClosesTheConnection(t *testing.T) {
	release := make(chan struct{})
	base := authGateway(t, func(context.Context, *netron.Peer, any) (any, error) {
		<-release
		return map[string]any{"success": true}, nil
	})
	t.Cleanup(func() { close(release) })
	c := client(t)
	r := post(t, c, base+"/netron/authenticate", `{"id":"a1","credentials":{"token":"t"}}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "netron.taskTimeout") {
		t.Fatalf("authenticate: %d %s, want 200 with a failed authentication naming netron.taskTimeout", r.status, r.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("the next request of the client: %v, want an answer at once", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the next request of the client: %d, want 200", res.StatusCode)
	}
}

// An authentication answered past its time gives back its body's share of
// the gateway's body memory with the answer, not when its authenticator
// returns: authenticators that hang do not starve other requests.
func TestAuthenticateTimeoutReleasesBodyMemory(t *testing.T) {
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	ctx := context.Background()
	gw, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0",
		httptransport.WithAuthenticator(func(context.Context, *netron.Peer, any) (any, error) {
			<-release
			return map[string]any{"success": true}, nil
		}),
		httptransport.WithMaxBodySize(64), httptransport.WithMaxBodyMemory(64))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(release) // before the shutdown, which waits for the authenticator
		_ = gw.Shutdown(ctx)
		_ = n.Stop(ctx)
	})
	auth := `{"id":"a1","credentials":{"token":"t"}}` // 40 of the 64 bytes
	r := post(t, client(t), gw.Addr()+"/netron/authenticate", auth)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "netron.taskTimeout") {
		t.Fatalf("authenticate: %d %s, want 200 with a failed authentication naming netron.taskTimeout", r.status, r.body)
	}
	// The authenticator still hangs; another body of 48 bytes fits only
	// if the first gave its 40 back.
	r = post(t, client(t), gw.Addr()+"/netron/invoke", `{"id":"b1","service":"none","method":"m","input":[]}`)
	if r.status != http.StatusNotFound {
		t.Fatalf("invoke while the authenticator hangs: %d %s, want 404 (the body memory given back)", r.status, r.body)
	}
}
