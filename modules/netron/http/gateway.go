package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/klauspost/compress/gzhttp"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/transport"
	"github.com/titanframework/titan/modules/netron/transport/httpmux"
)

func init() {
	transport.Register(entry{"http"})
	transport.Register(entry{"https"})
}

// factory is the [netron.GatewayFactory] of http:// and https:// URLs:
// the gateway takes the options of [WithGatewayOptions] (the `http`
// section of a titan app), then those of the URL's query, a deprecated
// form that logs one warning naming what replaces each parameter.
func factory(ctx context.Context, n netron.Engine, u *url.URL) (netron.Gateway, error) {
	fromURL, instead, err := optionsFromURL(u)
	if err != nil {
		return nil, err
	}
	if len(instead) > 0 {
		n.Logger().Warn("the query parameters of an http listen address are deprecated; use the http configuration section or the gateway options of httptransport.WithGatewayOptions",
			"address", u.Scheme+"://"+u.Host, "instead", strings.Join(instead, "; "))
	}
	opts := gatewayOptions(n, u.Scheme)
	// The Netron's TLS configuration (netron.WithTLS) serves https when no
	// option names a certificate; options come after it.
	if u.Scheme == "https" && n.TLS() != nil {
		opts = append([]Option{WithTLS(n.TLS())}, opts...)
	}
	return Listen(ctx, n, u.Scheme+"://"+u.Host, append(opts, fromURL...)...)
}

// Gateway is a [Handler] served on the process-wide HTTP server of its
// host:port (package httpmux), which a ws:// listener on the same address
// shares. It implements [netron.Gateway].
type Gateway struct {
	h       *Handler
	srv     *httpmux.Server
	removes []func()
	addr    string
}

// Listen serves n's services on addr, an http://host:port or
// https://host:port URL (port 0 picks a free port). https needs [WithTLS]
// (or, through [netron.Netron.Listen], [WithGatewayOptions] or the
// Netron's TLS configuration).
// The gateway runs until [Gateway.Shutdown].
func Listen(ctx context.Context, n netron.Engine, addr string, opts ...Option) (*Gateway, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("httptransport: address %q: %w", addr, err)
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("httptransport: address %q: want http://host:port or https://host:port", addr)
	}
	if u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("httptransport: address %q: name a host and a port (0 for any free port)", addr)
	}
	h, err := NewHandler(n, opts...)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme == "https" && h.cfg.tls == nil:
		return nil, fmt.Errorf("httptransport: address %q: https needs a certificate: WithTLS (http.cert and http.key in a titan app), or the Netron's (netron.WithTLS)", addr)
	case u.Scheme == "http" && h.cfg.tls != nil:
		return nil, fmt.Errorf("httptransport: address %q: WithTLS given for an http:// address; use https://", addr)
	}
	lo := n.ListenOptions(u.Scheme)
	if h.cfg.limits != nil {
		lo = withPorts(*h.cfg.limits, lo.Ports)
	}
	lo.TLS, lo.MaxFrameSize = h.cfg.tls, 0
	if lo.Logger == nil {
		lo.Logger = h.log
	}
	srv, err := httpmux.Acquire(ctx, u.Host, lo)
	if err != nil {
		return nil, fmt.Errorf("httptransport: listen %s: %w", addr, err)
	}
	g := &Gateway{h: h, srv: srv, addr: u.Scheme + "://" + srv.Addr()}
	if err := g.mount(); err != nil {
		_ = srv.Release(ctx)
		return nil, fmt.Errorf("httptransport: listen %s: %w", addr, err)
	}
	return g, nil
}

// mount puts the handler on the shared server. The GET routes are mounted
// by path; then the catch-all "/" takes every other request (JSON 404 for
// unknown paths). When "/" is taken — a ws:// listener at the root path
// shares the address — POST, OPTIONS, PUT, DELETE and PATCH on every path
// are mounted instead, leaving other GET requests (WebSocket upgrades) to
// the ws listener.
func (g *Gateway) mount() error {
	var served http.Handler = g.h
	if min := g.h.cfg.gzipMin; min > 0 {
		// gzip for clients that ask, on JSON answers only (klauspost's
		// gzhttp): streams keep arriving item by item.
		wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(min), gzhttp.ContentTypes([]string{"application/json"}))
		if err != nil {
			return err
		}
		served = wrap(g.h)
	}
	handle := func(pattern string) error {
		remove, err := g.srv.Handle(pattern, served)
		if err != nil {
			return err
		}
		g.removes = append(g.removes, remove)
		return nil
	}
	prefixes := []string{""}
	if g.h.cfg.prefix != "" {
		prefixes = append(prefixes, g.h.cfg.prefix)
	}
	for _, p := range prefixes {
		for _, path := range []string{"/health", "/openapi.json", "/discover", "/metrics", "/netron/"} {
			if err := handle("GET " + p + path); err != nil {
				return err
			}
		}
	}
	// The mounts (WithMounts) by their own paths too: on a port shared
	// with ws://, the WebSocket listener takes the GETs of paths nobody
	// registered.
	for _, m := range g.h.mounts {
		for _, p := range prefixes {
			if err := handle("GET " + p + m.Path); err != nil {
				return err
			}
		}
	}
	if handle("/") == nil {
		return nil
	}
	for _, m := range []string{http.MethodPost, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		if err := handle(m + " /"); err != nil {
			return err
		}
	}
	return nil
}

// Addr returns the bound address, such as http://127.0.0.1:41234.
func (g *Gateway) Addr() string { return g.addr }

// Handler returns the gateway's handler.
func (g *Gateway) Handler() *Handler { return g.h }

// Shutdown stops the gateway: new requests get 503, requests in flight
// finish until ctx ends (then they are cancelled), and the listener
// closes. It is safe to call more than once.
func (g *Gateway) Shutdown(ctx context.Context) error {
	err := g.h.Shutdown(ctx)
	for _, remove := range g.removes {
		remove()
	}
	return errors.Join(err, g.srv.Release(ctx))
}

// Capabilities reports what the HTTP protocol carries: server streams (as
// one streamed response: SSE, NDJSON or an array), no calls from the server
// to the client (so no events), text (JSON) rather than binary, a
// stateless "reconnection" (every request stands alone), and the body limit
// as the frame size.
func (g *Gateway) Capabilities() transport.Capabilities {
	return transport.Capabilities{Streaming: true, Reconnection: true, MaxFrameSize: int(g.h.cfg.maxBody)}
}

// withPorts returns o sharing its port in ports' scope unless o names one.
func withPorts(o transport.Options, ports *transport.Ports) transport.Options {
	if o.Ports == nil {
		o.Ports = ports
	}
	return o
}
