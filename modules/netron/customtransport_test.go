package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// A Netron's own transports (WithCustomTransports) serve and dial their
// schemes for it alone; another Netron does not know them.
func TestCustomTransports(t *testing.T) {
	t.Parallel()
	mine := netron.WithCustomTransports(transporttest.Renamed(tcp.New(), "mytcp"))
	server, err := netron.New(netron.Config{}, nil, mine)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Stop(context.Background())
	if err := server.Register("echo", "1.0.0", Echo{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	addr, err := server.Listen(ctx, "mytcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "mytcp://") {
		t.Fatalf("Listen = %q", addr)
	}
	client, err := netron.New(netron.Config{}, nil, mine)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	p, err := client.Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if s, err := netron.CallUnary[string](ctx, p, "echo@1.0.0", "echo", "hi"); err != nil || s != "hi" {
		t.Fatalf("echo over mytcp = %q, %v", s, err)
	}
	if _, err := netron.Dial(ctx, addr); err == nil || !strings.Contains(err.Error(), `unknown scheme "mytcp"`) {
		t.Fatalf("a Netron without the transport dialled %s: %v", addr, err)
	}
}
