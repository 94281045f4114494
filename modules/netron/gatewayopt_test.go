package netron_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// door is a gateway that serves nothing but says where it listens.
type door struct{ addr string }

func (d door) Addr() string                       { return d.addr }
func (d door) Shutdown(ctx context.Context) error { return nil }

// A gateway given to one Netron (WithGateway) serves its scheme there, and
// another Netron does not know the scheme.
func TestWithGateway(t *testing.T) {
	started := 0
	f := func(ctx context.Context, n *netron.Netron, u *url.URL) (netron.Gateway, error) {
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
