package main

import (
	"context"
	"fmt"
	"net"

	"github.com/valyala/fasthttp"
)

// fasthttp-raw is http-raw with valyala/fasthttp on both sides instead of
// net/http: the same echo of the payload's bytes over HTTP/1.1, one
// connection per caller. It is not a Titan row: it shows what an HTTP/1.1
// stack other than net/http costs by itself, beside http-raw, for the
// choice of the gateway's server and client.
func init() {
	register("fasthttp-raw", system{setup: setupFastHTTPRaw,
		note: "valyala/fasthttp echo of the payload bytes, no serialisation, one connection per caller"})
}

func setupFastHTTPRaw(c caseSpec) (*bench, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(ctx.PostBody()) // copied into the answer's own buffer
	}}
	go func() { _ = srv.Serve(ln) }()
	hc := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: c.Conc}
	url := "http://" + ln.Addr().String() + "/echo"
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.SetContentType("application/octet-stream")
			req.SetBodyRaw(payloadBytes(payload))
			if dl, ok := ctx.Deadline(); ok {
				if err := hc.DoDeadline(req, resp, dl); err != nil {
					return err
				}
			} else if err := hc.Do(req, resp); err != nil {
				return err
			}
			if resp.StatusCode() != fasthttp.StatusOK {
				return fmt.Errorf("status %d: %s", resp.StatusCode(), resp.Body())
			}
			return echoed(resp.Body(), payload)
		},
		conns: c.Conc,
		cleanup: func() {
			hc.CloseIdleConnections()
			_ = srv.Shutdown()
		},
	}, nil
}
