package framed

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"github.com/titanframework/titan/modules/netron/transport"
)

// Serve wraps the stream listener nl for a transport in a [Listener] with o's frame size, TLS
// (when o.TLS is not nil), limits and logger, and addresses formatted by [FormatAddr]. It
// returns an error, and leaves nl open, when o is invalid or o.TLS has no server certificate.
func Serve(nl net.Listener, o transport.Options) (*Listener, error) { return ServeAs(nl, o, nil) }

// ServeAs is [Serve] with addresses formatted by addr (nil: [FormatAddr]), for a transport
// whose URLs name the same sockets with a scheme of their own (tls:// for TCP with TLS).
func ServeAs(nl net.Listener, o transport.Options, addr func(net.Addr) string) (*Listener, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TLS != nil {
		if len(o.TLS.Certificates) == 0 && o.TLS.GetCertificate == nil && o.TLS.GetConfigForClient == nil {
			return nil, errors.New("transport: Options.TLS has no certificate (set Certificates, GetCertificate or GetConfigForClient)")
		}
	}
	return NewListener(nl, Config{MaxFrameSize: o.FrameLimit(), Limits: o.Limits(), TLS: o.TLS, Logger: o.Logger, Addr: addr}), nil
}

// Dial connects to address on network ("tcp", "unix", ...) with the default [net.Dialer], in
// TLS when o.TLS is not nil (the TLS handshake completes before Dial returns), and wraps the
// connection with o's frame limit. ctx bounds the connection set-up only. For TLS without
// o.TLS.ServerName, the server name is the host part of address.
func Dial(ctx context.Context, network, address string, o transport.Options) (*Conn, error) {
	return DialAs(ctx, network, address, o, nil)
}

// DialAs is [Dial] with addresses formatted by addr (nil: [FormatAddr]); see [ServeAs].
func DialAs(ctx context.Context, network, address string, o transport.Options, addr func(net.Addr) string) (*Conn, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	var (
		nc  net.Conn
		err error
	)
	if o.TLS != nil {
		d := tls.Dialer{Config: o.TLS}
		nc, err = d.DialContext(ctx, network, address)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, network, address)
	}
	if err != nil {
		return nil, err
	}
	return NewConn(nc, Config{MaxFrameSize: o.FrameLimit(), Addr: addr}), nil
}
