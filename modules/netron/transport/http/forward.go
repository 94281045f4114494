// Package httptransport is the old import path of Netron's HTTP gateway,
// which moved to github.com/titanframework/titan/modules/netron/http (the
// gateways sit above the engine, the byte transports below it). Every name
// here forwards to the new package.
//
// Deprecated: import github.com/titanframework/titan/modules/netron/http.
// This package goes away in the next minor release.
package httptransport

import (
	"context"
	"crypto/tls"
	nethttp "net/http"
	"time"

	"github.com/titanframework/titan/modules/netron"
	gw "github.com/titanframework/titan/modules/netron/http"
	"github.com/titanframework/titan/modules/netron/transport"
)

// Deprecated: use http.DefaultClientConns of modules/netron/http.
const DefaultClientConns = gw.DefaultClientConns

// Deprecated: use http.DefaultMaxBodySize of modules/netron/http.
const DefaultMaxBodySize = gw.DefaultMaxBodySize

// Deprecated: use http.DefaultTimeout of modules/netron/http.
const DefaultTimeout = gw.DefaultTimeout

// Deprecated: use http.TitanPeerHeader of modules/netron/http.
const TitanPeerHeader = gw.TitanPeerHeader

type (
	// Deprecated: use http.CORS of modules/netron/http.
	CORS = gw.CORS
	// Deprecated: use http.Client of modules/netron/http.
	Client = gw.Client
	// Deprecated: use netron.ClientOption.
	ClientOption = netron.ClientOption
	// Deprecated: use http.Gateway of modules/netron/http.
	Gateway = gw.Gateway
	// Deprecated: use http.Handler of modules/netron/http.
	Handler = gw.Handler
	// Deprecated: use http.Option of modules/netron/http.
	Option = gw.Option
)

// Deprecated: use http.CallUnary of modules/netron/http.
func CallUnary[T any](ctx context.Context, c *Client, service, method string, args ...any) (T, error) {
	return gw.CallUnary[T](ctx, c, service, method, args...)
}

// Deprecated: use http.HTTPStatus of modules/netron/http.
func HTTPStatus(c netron.Code) int { return gw.HTTPStatus(c) }

// Deprecated: use http.NewClient of modules/netron/http.
func NewClient(base string, opts ...ClientOption) (*Client, error) {
	return gw.NewClient(base, opts...)
}

// Deprecated: use netron.WithBearerToken.
func WithBearerToken(token string) ClientOption { return netron.WithBearerToken(token) }

// Deprecated: use http.WithHTTPClient of modules/netron/http.
func WithHTTPClient(hc *nethttp.Client) ClientOption { return gw.WithHTTPClient(hc) }

// Deprecated: use http.WithHeader of modules/netron/http.
func WithHeader(key, value string) ClientOption { return gw.WithHeader(key, value) }

// Deprecated: use http.WithMaxResponseSize of modules/netron/http.
func WithMaxResponseSize(n int64) ClientOption { return gw.WithMaxResponseSize(n) }

// Deprecated: use http.Listen of modules/netron/http.
func Listen(ctx context.Context, n *netron.Netron, addr string, opts ...Option) (*Gateway, error) {
	return gw.Listen(ctx, n, addr, opts...)
}

// Deprecated: use http.NewHandler of modules/netron/http.
func NewHandler(n *netron.Netron, opts ...Option) (*Handler, error) { return gw.NewHandler(n, opts...) }

// Deprecated: use http.WithAuthenticator of modules/netron/http.
func WithAuthenticator(a netron.Authenticator) Option { return gw.WithAuthenticator(a) }

// Deprecated: use http.WithCORS of modules/netron/http.
func WithCORS(cors CORS) Option { return gw.WithCORS(cors) }

// Deprecated: use http.WithLimits of modules/netron/http.
func WithLimits(o transport.Options) Option { return gw.WithLimits(o) }

// Deprecated: use http.WithMaxBodySize of modules/netron/http.
func WithMaxBodySize(n int64) Option { return gw.WithMaxBodySize(n) }

// Deprecated: use http.WithPathPrefix of modules/netron/http.
func WithPathPrefix(prefix string) Option { return gw.WithPathPrefix(prefix) }

// Deprecated: use http.WithTLS of modules/netron/http.
func WithTLS(cfg *tls.Config) Option { return gw.WithTLS(cfg) }

// Deprecated: use http.WithTimeout of modules/netron/http.
func WithTimeout(d time.Duration) Option { return gw.WithTimeout(d) }
