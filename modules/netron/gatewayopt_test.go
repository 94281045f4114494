package netron_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/tcp"
)

// door is a gateway that serves nothing but says where it listens.
type door struct{ addr string }

func (d door) Addr() string                       { return d.addr }
func (d door) Shutdown(ctx context.Context) error { return nil }

// A gateway given to one Netron (WithGateway) serves its scheme there, and
// another Netron does not know the scheme.
func TestWithGateway(t *testing.T) {
	t.Parallel()
	started := 0
	f := func(ctx context.Context, n netron.Engine, u *url.URL) (netron.Gateway, error) {
		started++
		return door{addr: u.String()}, nil
	}
	n, err := netron.New(netron.Config{}, nil, netron.WithGateway("acme", f))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	addr, err := n.Listen(context.Background(), "acme://somewhere:1")
	if err != nil || addr != "acme://somewhere:1" || started != 1 {
		t.Fatalf("Listen(acme://) = %q, %v (started %d)", addr, err, started)
	}
	other, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Stop(context.Background())
	if _, err := other.Listen(context.Background(), "acme://somewhere:1"); err == nil || !strings.Contains(err.Error(), `unknown scheme "acme"`) {
		t.Fatalf("another Netron listened on acme://: %v", err)
	}
}

// gatewayRuns numbers the runs of TestGatewaysShareTheTransportRegistry.
var gatewayRuns atomic.Int32

// Gateways and transports share one table of schemes: a registered
// gateway's scheme is listed with the transports', claiming a transport's
// scheme panics like any duplicate, and the transport package, asked to
// dial or listen on a gateway's scheme, says what serves it instead of
// "unknown scheme".
func TestGatewaysShareTheTransportRegistry(t *testing.T) {
	f := func(ctx context.Context, n netron.Engine, u *url.URL) (netron.Gateway, error) {
		return door{addr: u.String()}, nil
	}
	// A scheme of its own per run: the registry is the process's, and a
	// scheme cannot be registered twice (go test -count=2).
	gw := fmt.Sprintf("acme-registry-test-%d", gatewayRuns.Add(1))
	netron.RegisterGateway(gw, f)
	if !slices.Contains(transport.Schemes(), gw) {
		t.Fatalf("transport.Schemes() = %v; want the gateway's scheme %s in it", transport.Schemes(), gw)
	}
	_, err := transport.Dial(context.Background(), gw+"://x:1", transport.Options{})
	if err == nil || !strings.Contains(err.Error(), "served by a gateway above the engine") {
		t.Fatalf("transport.Dial on a gateway's scheme: %v", err)
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if addr, err := n.Listen(context.Background(), gw+"://x:1"); err != nil || addr != gw+"://x:1" {
		t.Fatalf("Listen on a registered gateway's scheme: %q, %v", addr, err)
	}
	if _, err := netron.Dial(context.Background(), gw+"://x:1"); err == nil || !strings.Contains(err.Error(), "served by a gateway") {
		t.Fatalf("netron.Dial on a gateway's scheme: %v", err)
	}
	for _, scheme := range []string{"tcp", gw} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "registered twice") {
					t.Errorf("RegisterGateway(%q) over a registered scheme: recovered %v; want a registered-twice panic", scheme, r)
				}
			}()
			netron.RegisterGateway(scheme, f)
		}()
	}
}
