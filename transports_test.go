package titan_test

import (
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
	"github.com/titanframework/titan/modules/netron/transport/transporttest"
)

// A transport an app provides with transport.AsTransport is its Netron's:
// netron.listen may name its scheme.
func TestAppProvidesATransport(t *testing.T) {
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=apptcp://127.0.0.1:0")),
		titan.Provide(transport.AsTransport(func() transport.Transport { return transporttest.Renamed(tcp.New(), "apptcp") })),
		titan.Service("calculator", "1.0.0", NewCalculator),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	addrs := server.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "apptcp://") {
		t.Fatalf("Addrs() = %v, want one apptcp:// address", addrs)
	}
}
