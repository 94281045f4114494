//go:build !windows

package pipe

import (
	"context"
	"fmt"
	"net/url"

	"github.com/titanframework/titan/modules/netron/transport"
)

// Listen fails with ErrUnsupported outside Windows.
func (*Transport) Listen(_ context.Context, u *url.URL, _ transport.Options) (transport.Listener, error) {
	if _, err := pipePath(u); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("listen %s: %w", u, ErrUnsupported)
}

// Dial fails with ErrUnsupported outside Windows.
func (*Transport) Dial(_ context.Context, u *url.URL, _ transport.Options) (transport.Conn, error) {
	if _, err := pipePath(u); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("dial %s: %w", u, ErrUnsupported)
}
