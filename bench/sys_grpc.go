package main

import (
	"context"
	"errors"
	"io"
	"net"

	"buf.build/go/protovalidate"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/titanframework/titan/bench/benchpb"
)

// gRPC with the proto codec and default options: a unary echo and a server
// stream per family, declared by hand (generated messages, no generated
// service code): BytesValue for the string and bytes families, benchpb's
// User and Page for the others.
func init() {
	register("grpc", system{setup: func(c caseSpec) (*bench, error) { return setupGRPC(c, nil) },
		note: "grpc-go, proto codec, default options, one ClientConn"})
	register("grpc-pv", system{setup: setupGRPCValidated,
		note: "grpc-go with protovalidate checking each request and each answer on the server (message and list families)"})
}

// setupGRPCValidated is the validated anchor: the server checks every
// request and every answer or stream message with protovalidate, against
// the rules in proto/bench.proto (those of the Netron contract), as
// Netron's validate interceptor checks arguments and results.
func setupGRPCValidated(c caseSpec) (*bench, error) {
	v, err := protovalidate.New()
	if err != nil {
		return nil, err
	}
	// Refuse a message that breaks the rules, once, before measuring.
	bad := userPB(theUser)
	bad.Email = "not an email"
	if v.Validate(bad) == nil {
		return nil, errors.New("protovalidate accepted a user whose email is not one")
	}
	return setupGRPC(c, func(m proto.Message) error {
		if err := v.Validate(m); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		return nil
	})
}

// bytesStream's request carries the count in the first byte pair and the
// payload after it.
func bytesStream(in *wrapperspb.BytesValue, send func(*wrapperspb.BytesValue) error) error {
	n := int(in.Value[0])<<8 | int(in.Value[1])
	out := &wrapperspb.BytesValue{Value: in.Value[2:]}
	for range n {
		if err := send(out); err != nil {
			return err
		}
	}
	return nil
}

// check is the server's check of a request (grpc-pv's protovalidate), or
// nil.
type check func(proto.Message) error

func unaryMethod[T any, PT interface {
	*T
	proto.Message
}](name string, chk check) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := PT(new(T))
			if err := dec(in); err != nil {
				return nil, err
			}
			if chk != nil {
				if err := chk(in); err != nil {
					return nil, err
				}
				if err := chk(in); err != nil { // the answer, which echoes the request
					return nil, err
				}
			}
			return in, nil
		},
	}
}

func streamMethod[T any, PT interface {
	*T
	proto.Message
}](name string, chk check, serve func(PT, grpc.ServerStream) error) grpc.StreamDesc {
	return grpc.StreamDesc{
		StreamName:    name,
		ServerStreams: true,
		Handler: func(_ any, stream grpc.ServerStream) error {
			in := PT(new(T))
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			if chk != nil {
				if err := chk(in); err != nil {
					return err
				}
				return serve(in, checkedStream{stream, chk})
			}
			return serve(in, stream)
		},
	}
}

// checkedStream checks each message a server stream sends.
type checkedStream struct {
	grpc.ServerStream
	chk check
}

func (s checkedStream) SendMsg(m any) error {
	if err := s.chk(m.(proto.Message)); err != nil {
		return err
	}
	return s.ServerStream.SendMsg(m)
}

func grpcDesc(chk check) *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: "bench.Echo",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unaryMethod[wrapperspb.BytesValue]("Unary", nil),
			unaryMethod[benchpb.User]("UnaryUser", chk),
			unaryMethod[benchpb.Page]("UnaryPage", chk),
		},
		Streams: []grpc.StreamDesc{
			streamMethod("Stream", nil, func(in *wrapperspb.BytesValue, ss grpc.ServerStream) error {
				return bytesStream(in, func(m *wrapperspb.BytesValue) error { return ss.SendMsg(m) })
			}),
			streamMethod("StreamUser", chk, func(in *benchpb.StreamRequest, ss grpc.ServerStream) error {
				for range in.GetCount() {
					if err := ss.SendMsg(in.GetUser()); err != nil {
						return err
					}
				}
				return nil
			}),
			streamMethod("StreamPage", chk, func(in *benchpb.PageStreamRequest, ss grpc.ServerStream) error {
				for range in.GetCount() {
					if err := ss.SendMsg(in.GetPage()); err != nil {
						return err
					}
				}
				return nil
			}),
		},
	}
}

func setupGRPC(c caseSpec, chk check) (*bench, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer()
	desc := grpcDesc(chk)
	srv.RegisterService(desc, struct{}{})
	go srv.Serve(ln)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		srv.Stop()
		return nil, err
	}
	b := &bench{conns: 1, cleanup: func() { cc.Close(); srv.Stop() }}
	switch c.Family {
	case familyMessage:
		b.unary = func(ctx context.Context, _ string) error {
			out := new(benchpb.User)
			if err := cc.Invoke(ctx, "/bench.Echo/UnaryUser", theUserPB, out); err != nil {
				return err
			}
			return sameUserPB(out, theUser)
		}
		b.stream = func(ctx context.Context, _ string, n int) (int, error) {
			return grpcStream(ctx, cc, &desc.Streams[1], "/bench.Echo/StreamUser",
				&benchpb.StreamRequest{User: theUserPB, Count: int32(n)},
				func(u *benchpb.User) error { return sameUserPB(u, theUser) })
		}
	case familyList:
		b.unary = func(ctx context.Context, _ string) error {
			out := new(benchpb.Page)
			if err := cc.Invoke(ctx, "/bench.Echo/UnaryPage", thePagePB, out); err != nil {
				return err
			}
			return samePagePB(out, thePage)
		}
		b.stream = func(ctx context.Context, _ string, n int) (int, error) {
			return grpcStream(ctx, cc, &desc.Streams[2], "/bench.Echo/StreamPage",
				&benchpb.PageStreamRequest{Page: thePagePB, Count: int32(n)},
				func(p *benchpb.Page) error { return samePagePB(p, thePage) })
		}
	default:
		if chk != nil {
			return b, nil // the validated anchor is for messages
		}
		b.unary = func(ctx context.Context, payload string) error {
			out := new(wrapperspb.BytesValue)
			if err := cc.Invoke(ctx, "/bench.Echo/Unary", &wrapperspb.BytesValue{Value: payloadBytes(payload)}, out); err != nil {
				return err
			}
			return echoed(out.Value, payload)
		}
		b.stream = func(ctx context.Context, payload string, n int) (int, error) {
			req := append([]byte{byte(n >> 8), byte(n)}, payload...)
			return grpcStream(ctx, cc, &desc.Streams[0], "/bench.Echo/Stream", &wrapperspb.BytesValue{Value: req},
				func(out *wrapperspb.BytesValue) error { return echoed(out.Value, payload) })
		}
	}
	return b, nil
}

// grpcStream sends req and counts the replies, each checked.
func grpcStream[T any, PT interface {
	*T
	proto.Message
}](ctx context.Context, cc *grpc.ClientConn, desc *grpc.StreamDesc, method string, req proto.Message, check func(PT) error) (int, error) {
	st, err := cc.NewStream(ctx, desc, method)
	if err != nil {
		return 0, err
	}
	if err := st.SendMsg(req); err != nil {
		return 0, err
	}
	if err := st.CloseSend(); err != nil {
		return 0, err
	}
	got := 0
	for {
		out := PT(new(T))
		if err := st.RecvMsg(out); err == io.EOF {
			return got, nil
		} else if err != nil {
			return got, err
		}
		if err := check(out); err != nil {
			return got, err
		}
		got++
	}
}
