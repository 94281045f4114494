package titan_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/tcp"
)

// appTCP is TCP under the scheme "apptcp", registered nowhere: the app
// provides it.
type appTCP struct{}

func (appTCP) Name() string                         { return "apptcp" }
func (appTCP) Schemes() []string                    { return []string{"apptcp"} }
func (appTCP) Capabilities() transport.Capabilities { return tcp.New().Capabilities() }
func toTCP(u *url.URL) *url.URL                     { v := *u; v.Scheme = "tcp"; return &v }
func (appTCP) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	return tcp.New().Dial(ctx, toTCP(u), o)
}
func (appTCP) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	l, err := tcp.New().Listen(ctx, toTCP(u), o)
	if err != nil {
		return nil, err
	}
	return appListener{l}, nil
}

type appListener struct{ transport.Listener }

func (l appListener) Addr() string { return "apptcp" + strings.TrimPrefix(l.Listener.Addr(), "tcp") }

// A transport an app provides with transport.AsTransport is its Netron's:
// netron.listen may name its scheme.
func TestAppProvidesATransport(t *testing.T) {
	var server *netron.Netron
	startApp(t, titan.WithConfig(quiet("netron.listen=apptcp://127.0.0.1:0")),
		titan.Provide(transport.AsTransport(func() appTCP { return appTCP{} })),
		titan.Service("calculator", "1.0.0", NewCalculator),
		titan.Invoke(func(n *netron.Netron) { server = n }))
	addrs := server.Addrs()
	if len(addrs) != 1 || !strings.HasPrefix(addrs[0], "apptcp://") {
		t.Fatalf("Addrs() = %v, want one apptcp:// address", addrs)
	}
}
