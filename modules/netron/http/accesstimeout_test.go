package http_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// stallAccess identifies the token "waits" only when its context ends (a
// store that does not answer), and the token "ignores" only when release
// is closed, whatever its context; anyone else at once.
type stallAccess struct{ release chan struct{} }

func (a stallAccess) Identify(ctx context.Context, c netron.Credentials) (context.Context, error) {
	switch c.Token {
	case "waits":
		<-ctx.Done()
		return nil, ctx.Err()
	case "ignores":
		<-a.release
	}
	return ctx, nil
}

func (stallAccess) Visible(context.Context, *netron.MethodSpec) bool { return true }

// Identify gets the Netron's TaskTimeout, as an authenticator does: a
// request whose Identify waits for its context, or ignores it, is
// answered deadline_exceeded naming the limit and its key, in about that
// time. It used to get no limit: the request hung as long as its client
// waited.
func TestIdentifyTimesOut(t *testing.T) {
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond}, nil, netron.WithAccess(stallAccess{release: make(chan struct{})}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register("calculator", "1.0.0", &Calculator{}, netron.WithHTTP("/api/calculator")); err != nil {
		t.Fatal(err)
	}
	release := n.Access().(stallAccess).release
	addr := listenGateway(t, n).Addr()
	// Before the gateway's shutdown, which waits for an Identify that
	// ignores its context.
	t.Cleanup(func() { close(release) })
	c := client(t)
	for _, token := range []string{"waits", "ignores", "anyone"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr+"/api/calculator/add", strings.NewReader("[1,2]"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := c.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("the token %q: %v, want an answer within 2s (netron.taskTimeout is 200ms)", token, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		if err != nil {
			t.Fatalf("the token %q: read the answer: %v", token, err)
		}
		if token == "anyone" {
			if res.StatusCode != http.StatusOK || string(body) != "3" {
				t.Errorf("the token %q: %d %s, want 200 3", token, res.StatusCode, body)
			}
			continue
		}
		if res.StatusCode != http.StatusRequestTimeout || res.Header.Get("X-Titan-Code") != "deadline_exceeded" ||
			!strings.Contains(string(body), "did not finish within 200ms (netron.taskTimeout)") {
			t.Errorf("the token %q: %d %s %s, want 408 deadline_exceeded naming netron.taskTimeout", token, res.StatusCode, res.Header.Get("X-Titan-Code"), body)
		}
	}
}
