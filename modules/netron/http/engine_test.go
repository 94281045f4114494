package http_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/http"
)

// counting is an Engine that is not a *netron.Netron: it counts the calls
// it passes on, so the test sees that the gateway reaches the engine only
// through the published API.
type counting struct {
	netron.Engine
	calls atomic.Int64
}

func (c *counting) Invoke(ctx context.Context, inv *netron.Invocation) (any, error) {
	c.calls.Add(1)
	return c.Engine.Invoke(ctx, inv)
}

type Doubler struct{}

func (Doubler) Double(_ context.Context, x int) (int, error) { return 2 * x, nil }

func TestHandlerOnTheEngineAPI(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("doubler", "1.0.0", Doubler{}, httptransport.Path("/api/doubler")); err != nil {
		t.Fatal(err)
	}
	e := &counting{Engine: n}
	h, err := httptransport.NewHandler(e)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := testsrv.HTTPClient.Post(srv.URL+"/api/doubler/double", "application/json", strings.NewReader("[21]"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "42" {
		t.Fatalf("double(21) = %d %s", resp.StatusCode, body)
	}
	if e.calls.Load() != 1 {
		t.Fatalf("the engine saw %d calls, want 1", e.calls.Load())
	}
}
