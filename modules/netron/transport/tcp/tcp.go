package tcp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
	"github.com/titanframework/titan/modules/netron/transport/internal/noquery"
)

func init() { transport.Register(New()) }

// Transport is the TCP transport. The zero value is ready to use and safe for concurrent use.
type Transport struct{}

// New returns the TCP transport; it suits fx.Provide(transport.AsTransport(tcp.New)).
func New() *Transport { return &Transport{} }

// Name returns "tcp".
func (*Transport) Name() string { return "tcp" }

// Schemes returns ["tcp", "tls"]: tls:// is TCP with TLS.
func (*Transport) Schemes() []string { return []string{"tcp", "tls"} }

// SecureScheme reports whether scheme is TLS by definition: tls.
func (*Transport) SecureScheme(scheme string) bool { return scheme == "tls" }

// Capabilities reports a streaming, bidirectional, binary, reconnectable transport with 16 MiB
// frames by default.
func (*Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Streaming: true, Bidirectional: true, Binary: true, Reconnection: true,
		MaxFrameSize: transport.DefaultMaxFrameSize,
	}
}

// Listen listens on tcp://host:port or tls://host:port (host may be empty for all interfaces,
// port 0 picks a free port). With o.TLS set, connections are served with tls.Server; o.TLS must
// then hold a certificate. tls:// requires it.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	hostport, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "tls" && (o.TLS == nil || len(o.TLS.Certificates) == 0 && o.TLS.GetCertificate == nil && o.TLS.GetConfigForClient == nil) {
		return nil, fmt.Errorf("tcp: listen %s: tls:// needs a server certificate (netron.WithTLS, or transport.Options.TLS)", u.Redacted())
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	nl, err := lc.Listen(ctx, "tcp", hostport)
	if err != nil {
		return nil, err
	}
	nl = withZone(nl, hostport)
	var addr func(net.Addr) string // tcp://
	if u.Scheme == "tls" {
		addr = tlsAddr
	}
	l, err := framed.ServeAs(nl, o, addr)
	if err != nil {
		_ = nl.Close()
		return nil, err
	}
	return l, nil
}

// Dial connects to tcp://host:port or tls://host:port. With o.TLS set, the TLS handshake
// completes before Dial returns; tls:// without o.TLS verifies the server against the system's
// roots.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	hostport, err := hostPort(u)
	if err != nil {
		return nil, err
	}
	var addr func(net.Addr) string // tcp://
	if u.Scheme == "tls" {
		addr = tlsAddr
		if o.TLS == nil {
			o.TLS = &tls.Config{MinVersion: tls.VersionTLS12} // the system's roots
		}
	}
	c, err := framed.DialAs(ctx, "tcp", hostport, o, addr)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// withZone returns nl with the zone of hostport in its address (see [framed.WithZone]).
func withZone(nl net.Listener, hostport string) net.Listener {
	if a := framed.WithZone(nl.Addr(), hostport); a != nl.Addr() {
		return zonedListener{nl, a}
	}
	return nl
}

// zonedListener is a listener whose Addr has the zone the system left out.
type zonedListener struct {
	net.Listener
	addr net.Addr
}

func (l zonedListener) Addr() net.Addr { return l.addr }

// tlsAddr formats the addresses of tls:// connections and listeners.
func tlsAddr(a net.Addr) string {
	return "tls" + strings.TrimPrefix(framed.FormatAddr(a), "tcp")
}

// hostPort checks that u is tcp://host:port and returns host:port.
func hostPort(u *url.URL) (string, error) {
	if u == nil {
		return "", fmt.Errorf("tcp: nil address")
	}
	if (u.Scheme != "tcp" && u.Scheme != "tls") || u.Opaque != "" || u.User != nil || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("tcp: address %q: want tcp://host:port or tls://host:port", u.Redacted())
	}
	if err := noquery.Check("tcp", u); err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", fmt.Errorf("tcp: address %q: want %s://host:port: %w", u.Redacted(), u.Scheme, err)
	}
	// url.Parse lets only digits through; net would refuse a number out of range naming the
	// port alone.
	if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil {
		return "", fmt.Errorf("tcp: address %q: port %s is out of range (0 to 65535)", u.Redacted(), port)
	}
	return u.Host, nil
}

var _ transport.Transport = (*Transport)(nil)
