package netron_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
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

// Gateways and transports share one table of schemes: a registered
// gateway's scheme is listed with the transports', claiming a transport's
// scheme panics like any duplicate, and the transport package, asked to
// dial or listen on a gateway's scheme, says what serves it instead of
// "unknown scheme".
func TestGatewaysShareTheTransportRegistry(t *testing.T) {
	f := func(ctx context.Context, n netron.Engine, u *url.URL) (netron.Gateway, error) {
		return door{addr: u.String()}, nil
	}
	netron.RegisterGateway("acme-registry-test", f)
	if !slices.Contains(transport.Schemes(), "acme-registry-test") {
		t.Fatalf("transport.Schemes() = %v; want the gateway's scheme in it", transport.Schemes())
	}
	_, err := transport.Dial(context.Background(), "acme-registry-test://x:1", transport.Options{})
	if err == nil || !strings.Contains(err.Error(), "served by a gateway above the engine") {
		t.Fatalf("transport.Dial on a gateway's scheme: %v", err)
	}
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	if addr, err := n.Listen(context.Background(), "acme-registry-test://x:1"); err != nil || addr != "acme-registry-test://x:1" {
		t.Fatalf("Listen on a registered gateway's scheme: %q, %v", addr, err)
	}
	if _, err := netron.Dial(context.Background(), "acme-registry-test://x:1"); err == nil || !strings.Contains(err.Error(), "served by a gateway") {
		t.Fatalf("netron.Dial on a gateway's scheme: %v", err)
	}
	for _, scheme := range []string{"tcp", "acme-registry-test"} {
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
