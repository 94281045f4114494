package main

import (
	"context"
	"net"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/titanframework/titan/bench/benchpb"
)

// connect-go over h2c (unencrypted HTTP/2), the same messages as gRPC,
// with gzip off on both sides: grpc-go sends uncompressed by default, and
// connect's default (the handler gzips every answer a client accepts
// gzipped) would measure compression, not the framework.
func init() {
	register("connect", system{setup: func(c caseSpec) (*bench, error) { return setupConnect(c, true) },
		note: "connect-go, h2c, one HTTP/2 connection"})
	register("connect-h1", system{setup: func(c caseSpec) (*bench, error) { return setupConnect(c, false) },
		note: "connect-go, HTTP/1.1, one connection per caller (netron-http's shape)"})
}

func connectUnary[T any](mux *http.ServeMux, path string, opts ...connect.HandlerOption) {
	mux.Handle(path, connect.NewUnaryHandler(path,
		func(_ context.Context, req *connect.Request[T]) (*connect.Response[T], error) {
			return connect.NewResponse(req.Msg), nil
		}, opts...))
}

func connectStream[Req, Res any](mux *http.ServeMux, path string, serve func(*Req) (*Res, int), opts ...connect.HandlerOption) {
	mux.Handle(path, connect.NewServerStreamHandler(path,
		func(_ context.Context, req *connect.Request[Req], st *connect.ServerStream[Res]) error {
			out, n := serve(req.Msg)
			for range n {
				if err := st.Send(out); err != nil {
					return err
				}
			}
			return nil
		}, opts...))
}

// setupConnect serves and calls over h2c (one HTTP/2 connection) or, with
// h2 false, over HTTP/1.1 with one connection per caller, as netron-http.
func setupConnect(c caseSpec, h2 bool) (*bench, error) {
	mux := http.NewServeMux()
	noGzip := connect.WithCompression("gzip", nil, nil)
	connectUnary[wrapperspb.BytesValue](mux, "/bench.Echo/Unary", noGzip)
	connectUnary[benchpb.User](mux, "/bench.Echo/UnaryUser", noGzip)
	connectUnary[benchpb.Page](mux, "/bench.Echo/UnaryPage", noGzip)
	connectStream(mux, "/bench.Echo/Stream", func(in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, int) {
		return &wrapperspb.BytesValue{Value: in.Value[2:]}, int(in.Value[0])<<8 | int(in.Value[1])
	}, noGzip)
	connectStream(mux, "/bench.Echo/StreamUser", func(in *benchpb.StreamRequest) (*benchpb.User, int) {
		return in.GetUser(), int(in.GetCount())
	}, noGzip)
	connectStream(mux, "/bench.Echo/StreamPage", func(in *benchpb.PageStreamRequest) (*benchpb.Page, int) {
		return in.GetPage(), int(in.GetCount())
	}, noGzip)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux}
	tr := &http.Transport{MaxConnsPerHost: c.Conc, MaxIdleConnsPerHost: c.Conc, DisableCompression: true}
	conns := c.Conc
	if h2 {
		var protocols http.Protocols
		protocols.SetUnencryptedHTTP2(true)
		srv.Protocols = &protocols
		// One connection for every caller, as grpc-go's (whose server
		// takes any number of streams): net/http's server takes 250 by
		// default, past which its client opens another connection.
		srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: max(c.Conc, 250)}
		tr = &http.Transport{Protocols: &protocols, MaxConnsPerHost: 1, HTTP2: &http.HTTP2Config{StrictMaxConcurrentRequests: true}}
		conns = 1
	}
	go srv.Serve(ln)
	hc := &http.Client{Transport: tr}
	base := "http://" + ln.Addr().String()
	acceptPlain := connect.WithAcceptCompression("gzip", nil, nil)
	b := &bench{conns: conns, cleanup: func() { tr.CloseIdleConnections(); srv.Close() }}
	switch c.Family {
	case familyMessage:
		unary := connect.NewClient[benchpb.User, benchpb.User](hc, base+"/bench.Echo/UnaryUser", acceptPlain)
		stream := connect.NewClient[benchpb.StreamRequest, benchpb.User](hc, base+"/bench.Echo/StreamUser", acceptPlain)
		b.unary = func(ctx context.Context, _ string) error {
			resp, err := unary.CallUnary(ctx, connect.NewRequest(theUserPB))
			if err != nil {
				return err
			}
			return sameUserPB(resp.Msg, theUser)
		}
		b.stream = func(ctx context.Context, _ string, n int) (int, error) {
			return connectRecv(ctx, stream, &benchpb.StreamRequest{User: theUserPB, Count: int32(n)},
				func(u *benchpb.User) error { return sameUserPB(u, theUser) })
		}
	case familyList:
		unary := connect.NewClient[benchpb.Page, benchpb.Page](hc, base+"/bench.Echo/UnaryPage", acceptPlain)
		stream := connect.NewClient[benchpb.PageStreamRequest, benchpb.Page](hc, base+"/bench.Echo/StreamPage", acceptPlain)
		b.unary = func(ctx context.Context, _ string) error {
			resp, err := unary.CallUnary(ctx, connect.NewRequest(thePagePB))
			if err != nil {
				return err
			}
			return samePagePB(resp.Msg, thePage)
		}
		b.stream = func(ctx context.Context, _ string, n int) (int, error) {
			return connectRecv(ctx, stream, &benchpb.PageStreamRequest{Page: thePagePB, Count: int32(n)},
				func(p *benchpb.Page) error { return samePagePB(p, thePage) })
		}
	default:
		unary := connect.NewClient[wrapperspb.BytesValue, wrapperspb.BytesValue](hc, base+"/bench.Echo/Unary", acceptPlain)
		stream := connect.NewClient[wrapperspb.BytesValue, wrapperspb.BytesValue](hc, base+"/bench.Echo/Stream", acceptPlain)
		b.unary = func(ctx context.Context, payload string) error {
			resp, err := unary.CallUnary(ctx, connect.NewRequest(&wrapperspb.BytesValue{Value: payloadBytes(payload)}))
			if err != nil {
				return err
			}
			return echoed(resp.Msg.Value, payload)
		}
		b.stream = func(ctx context.Context, payload string, n int) (int, error) {
			req := append([]byte{byte(n >> 8), byte(n)}, payload...)
			return connectRecv(ctx, stream, &wrapperspb.BytesValue{Value: req},
				func(out *wrapperspb.BytesValue) error { return echoed(out.Value, payload) })
		}
	}
	return b, nil
}

// connectRecv calls a server stream and counts its messages, each checked.
func connectRecv[Req, Res any](ctx context.Context, c *connect.Client[Req, Res], req *Req, check func(*Res) error) (int, error) {
	st, err := c.CallServerStream(ctx, connect.NewRequest(req))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	got := 0
	for st.Receive() {
		if err := check(st.Msg()); err != nil {
			return got, err
		}
		got++
	}
	return got, st.Err()
}
