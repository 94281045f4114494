package httptransport_test

import (
	"context"
	nethttp "net/http"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	httptransport "github.com/titanframework/titan/modules/netron/transport/http"
)

type Calc struct{}

func (Calc) Add(_ context.Context, a, b int) (int, error) { return a + b, nil }

// The old import path still serves and calls: Listen, NewClient with
// WithHTTPClient, CallUnary.
func TestForwarders(t *testing.T) {
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if err := n.Register("calc", "1.0.0", Calc{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := httptransport.Listen(ctx, n, "http://127.0.0.1:0", httptransport.WithTimeout(httptransport.DefaultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Shutdown(ctx)
	c, err := httptransport.NewClient(g.Addr(), httptransport.WithHTTPClient(&nethttp.Client{}))
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := httptransport.CallUnary[int](ctx, c, "calc@1.0.0", "add", 2, 3); err != nil || sum != 5 {
		t.Fatalf("add(2, 3) through the old path = %d, %v", sum, err)
	}
	if got := httptransport.HTTPStatus(netron.CodeNotFound); got != nethttp.StatusNotFound {
		t.Fatalf("HTTPStatus(not_found) = %d", got)
	}
}
