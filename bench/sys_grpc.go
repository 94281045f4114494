package main

import (
	"context"
	"io"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gRPC with the proto codec and default options: a unary echo and a server
// stream, declared by hand (no generated code) with BytesValue messages.
func init() {
	register("grpc", system{setup: setupGRPC, note: "grpc-go, proto codec, default options, one ClientConn"})
}

type echoServer interface {
	Unary(context.Context, *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error)
	Stream(*wrapperspb.BytesValue, grpc.ServerStream) error
}

type grpcEcho struct{}

func (grpcEcho) Unary(_ context.Context, in *wrapperspb.BytesValue) (*wrapperspb.BytesValue, error) {
	return in, nil
}

// Stream's request carries the count in the first byte pair and the payload
// after it.
func (grpcEcho) Stream(in *wrapperspb.BytesValue, ss grpc.ServerStream) error {
	n := int(in.Value[0])<<8 | int(in.Value[1])
	out := &wrapperspb.BytesValue{Value: in.Value[2:]}
	for range n {
		if err := ss.SendMsg(out); err != nil {
			return err
		}
	}
	return nil
}

var grpcDesc = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*echoServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.BytesValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			return srv.(echoServer).Unary(ctx, in)
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Stream",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(wrapperspb.BytesValue)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(echoServer).Stream(in, stream)
		},
	}},
}

func setupGRPC(caseSpec) (*bench, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer()
	srv.RegisterService(&grpcDesc, grpcEcho{})
	go srv.Serve(ln)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	streamDesc := &grpcDesc.Streams[0]
	return &bench{
		unary: func(ctx context.Context, payload string) error {
			out := new(wrapperspb.BytesValue)
			if err := cc.Invoke(ctx, "/bench.Echo/Unary", &wrapperspb.BytesValue{Value: []byte(payload)}, out); err != nil {
				return err
			}
			return echoed(out.Value, payload)
		},
		stream: func(ctx context.Context, payload string, n int) (int, error) {
			st, err := cc.NewStream(ctx, streamDesc, "/bench.Echo/Stream")
			if err != nil {
				return 0, err
			}
			req := append([]byte{byte(n >> 8), byte(n)}, payload...)
			if err := st.SendMsg(&wrapperspb.BytesValue{Value: req}); err != nil {
				return 0, err
			}
			if err := st.CloseSend(); err != nil {
				return 0, err
			}
			got := 0
			for {
				out := new(wrapperspb.BytesValue)
				if err := st.RecvMsg(out); err == io.EOF {
					return got, nil
				} else if err != nil {
					return got, err
				}
				if err := echoed(out.Value, payload); err != nil {
					return got, err
				}
				got++
			}
		},
		conns:   1,
		cleanup: func() { cc.Close(); srv.Stop() },
	}, nil
}
