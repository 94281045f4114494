package tcp

import (
	"context"
	"fmt"
	"net"
	"net/url"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
)

func init() { transport.Register(New()) }

// Transport is the TCP transport. The zero value is ready to use and safe for concurrent use.
type Transport struct{}

// New returns the TCP transport; it suits fx.Provide(transport.AsTransport(tcp.New)).
func New() *Transport { return &Transport{} }

// Name returns "tcp".
func (*Transport) Name() string { return "tcp" }

// Schemes returns ["tcp"].
func (*Transport) Schemes() []string { return []string{"tcp"} }

// Capabilities reports a streaming, bidirectional, binary, reconnectable transport with 16 MiB
// frames by default.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// Listen listens on tcp://host:port (host may be empty for all interfaces, port 0 picks a free
// port). With o.TLS set, connections are served with tls.Server; o.TLS must then hold a
// certificate.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	hostport, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	l, err := framed.Serve(nl, o)
	if err != nil {
		_ = nl.Close()
		return nil, err
	}
	return l, nil
}

// Dial connects to tcp://host:port. With o.TLS set, the TLS handshake completes before Dial
// returns.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	hostport, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	c, err := framed.Dial(ctx, "tcp", hostport, o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// hostPort checks that u is tcp://host:port and returns host:port.
func hostPort(u *url.URL) (string, error) {
	if u == nil {
		return "", fmt.Errorf("tcp: nil address")
	}
	if u.Scheme != "tcp" || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("tcp: address %q: want tcp://host:port", u.String())
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return "", fmt.Errorf("tcp: address %q: want tcp://host:port: %w", u.String(), err)
	}
	return u.Host, nil
}

var _ transport.Transport = (*Transport)(nil)
