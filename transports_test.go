package titan_test

import (
	"context"
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
	t.Parallel()
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

// TestTransportsNamesKnownTransports: titan.Transports with a name no
// transport has (a typo) fails start-up naming the service, the option
// and the name, instead of leaving the service on no listener; a name in
// capitals is the scheme in lowercase, as in addresses.
func TestTransportsNamesKnownTransports(t *testing.T) {
	t.Parallel()
	app := titan.New(titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.Transports("tpc")))
	err := app.Start(context.Background())
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("the app started with a service restricted to a transport named tpc")
	}
	for _, want := range []string{"calculator@1.0.0", `Transports("tpc")`, `unknown transport "tpc"`, "tcp"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("calculator", "1.0.0", NewCalculator, titan.Transports("TCP")),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	p, err := netron.Dial(context.Background(), server.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if v, err := netron.CallUnary[float64](context.Background(), p, "calculator@1.0.0", "add", 1, 2); err != nil || v != 3 {
		t.Fatalf(`add over tcp with Transports("TCP") = %v, %v`, v, err)
	}
}
