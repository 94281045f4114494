package transporttest

import (
	"context"
	"net/url"
	"strings"

	"github.com/titanframework/titan/modules/netron/transport"
)

// Renamed returns base under another scheme: a transport that no package
// registered, for tests of the transports an app or a Netron brings itself
// (transport.AsTransport, netron.WithCustomTransports). Addresses going
// down take base's first scheme; those coming up take scheme.
func Renamed(base transport.Transport, scheme string) transport.Transport {
	return renamed{base: base, scheme: scheme, baseScheme: base.Schemes()[0]}
}

type renamed struct {
	base               transport.Transport
	scheme, baseScheme string
}

func (r renamed) Name() string                         { return r.scheme }
func (r renamed) Schemes() []string                    { return []string{r.scheme} }
func (r renamed) Capabilities() transport.Capabilities { return r.base.Capabilities() }

func (r renamed) down(u *url.URL) *url.URL {
	v := *u
	v.Scheme = r.baseScheme
	return &v
}

func (r renamed) up(addr string) string {
	return r.scheme + strings.TrimPrefix(addr, r.baseScheme)
}

func (r renamed) Dial(ctx context.Context, u *url.URL, o transport.Options) (transport.Conn, error) {
	return r.base.Dial(ctx, r.down(u), o)
}

func (r renamed) Listen(ctx context.Context, u *url.URL, o transport.Options) (transport.Listener, error) {
	l, err := r.base.Listen(ctx, r.down(u), o)
	if err != nil {
		return nil, err
	}
	return renamedListener{l, r.up(l.Addr())}, nil
}

type renamedListener struct {
	transport.Listener
	addr string
}

func (l renamedListener) Addr() string { return l.addr }
