package main

import (
	"context"
	"net"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// connect-go over h2c (unencrypted HTTP/2), the same messages as gRPC,
// with gzip off on both sides: grpc-go sends uncompressed by default, and
// connect's default (the handler gzips every answer a client accepts
// gzipped) would measure compression, not the framework.
func init() {
	register("connect", system{setup: setupConnect, note: "connect-go, h2c, one HTTP/2 connection"})
}

func setupConnect(caseSpec) (*bench, error) {
	mux := http.NewServeMux()
	noGzip := connect.WithCompression("gzip", nil, nil)
	mux.Handle("/bench.Echo/Unary", connect.NewUnaryHandler("/bench.Echo/Unary",
		func(_ context.Context, req *connect.Request[wrapperspb.BytesValue]) (*connect.Response[wrapperspb.BytesValue], error) {
			return connect.NewResponse(req.Msg), nil
		}, noGzip))
	mux.Handle("/bench.Echo/Stream", connect.NewServerStreamHandler("/bench.Echo/Stream",
		func(_ context.Context, req *connect.Request[wrapperspb.BytesValue], st *connect.ServerStream[wrapperspb.BytesValue]) error {
			v := req.Msg.Value
			n := int(v[0])<<8 | int(v[1])
			out := &wrapperspb.BytesValue{Value: v[2:]}
			for range n {
				if err := st.Send(out); err != nil {
					return err
				}
			}
			return nil
		}, noGzip))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: &protocols}
	go srv.Serve(ln)
	tr := &http.Transport{Protocols: &protocols, MaxConnsPerHost: 1}
	hc := &http.Client{Transport: tr}
	base := "http://" + ln.Addr().String()
	acceptPlain := connect.WithAcceptCompression("gzip", nil, nil)
	unary := connect.NewClient[wrapperspb.BytesValue, wrapperspb.BytesValue](hc, base+"/bench.Echo/Unary", acceptPlain)
	stream := connect.NewClient[wrapperspb.BytesValue, wrapperspb.BytesValue](hc, base+"/bench.Echo/Stream", acceptPlain)
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			resp, err := unary.CallUnary(ctx, connect.NewRequest(&wrapperspb.BytesValue{Value: []byte(payload)}))
			if err != nil {
				return err
			}
			return echoed(resp.Msg.Value, payload)
		},
		stream: func(ctx context.Context, payload string, n int) (int, error) {
			req := append([]byte{byte(n >> 8), byte(n)}, payload...)
			st, err := stream.CallServerStream(ctx, connect.NewRequest(&wrapperspb.BytesValue{Value: req}))
			if err != nil {
				return 0, err
			}
			defer st.Close()
			got := 0
			for st.Receive() {
				if err := echoed(st.Msg().Value, payload); err != nil {
					return got, err
				}
				got++
			}
			return got, st.Err()
		},
		conns:   1,
		cleanup: func() { tr.CloseIdleConnections(); srv.Close() },
	}, nil
}
