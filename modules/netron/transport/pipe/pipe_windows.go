//go:build windows

package pipe

import (
	"context"
	"errors"
	"net"
	"net/url"

	"github.com/Microsoft/go-winio"

	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/framed"
)

func format(a net.Addr) string { return Addr(a.String()) }

// Listen creates the named pipe pipe://name.
func (*Transport) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	path, err := pipePath(u)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TLS != nil {
		return nil, errors.New("pipe: TLS is not supported on named pipes")
	}
	nl, err := winio.ListenPipe(path, &winio.PipeConfig{InputBufferSize: 64 << 10, OutputBufferSize: 64 << 10})
	if err != nil {
		return nil, err
	}
	return framed.NewListener(nl, framed.Config{MaxFrameSize: o.MaxFrameSize, Addr: format, Limits: o.Limits(), Logger: o.Logger}), nil
}

// Dial connects to the named pipe pipe://name.
func (*Transport) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	path, err := pipePath(u)
	if err != nil {
		return nil, err
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.TLS != nil {
		return nil, errors.New("pipe: TLS is not supported on named pipes")
	}
	nc, err := winio.DialPipeContext(ctx, path)
	if err != nil {
		return nil, err
	}
	return framed.NewConn(nc, framed.Config{MaxFrameSize: o.MaxFrameSize, Addr: format}), nil
}
