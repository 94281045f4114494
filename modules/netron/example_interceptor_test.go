package netron_test

import (
	"context"
	"fmt"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/validate"
)

// trace is an interceptor that says when a call enters and leaves it.
func trace(name string) netron.Interceptor {
	return netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			side := "serve"
			if call.IsClient() {
				side = "call"
			}
			fmt.Printf("%s %s: enter %s.%s\n", side, name, call.Service, call.Method)
			res, err := next(ctx, call)
			outcome := "ok"
			if err != nil {
				outcome = netron.CodeOf(err).String()
			}
			fmt.Printf("%s %s: leave (%s)\n", side, name, outcome)
			return res, err
		}
	})
}

// authorize is an interceptor of the shape security takes: the calling side
// puts a token in the call's metadata, the serving side checks it before
// the method runs, reading what is called from the method's spec.
func authorize(token string) netron.Interceptor {
	return netron.UnaryInterceptorFunc(func(next netron.UnaryFunc) netron.UnaryFunc {
		return func(ctx context.Context, call *netron.Call) (any, error) {
			if call.IsClient() {
				if call.Metadata == nil {
					call.Metadata = map[string]string{}
				}
				call.Metadata["authorization"] = token
				return next(ctx, call)
			}
			if call.Metadata["authorization"] != token {
				return nil, netron.Errorf(netron.CodeUnauthenticated, "%s: no valid token", call.Spec().GoName())
			}
			return next(ctx, call)
		}
	})
}

// The first interceptor given is the outermost, on both sides; package
// validate's interceptor, given last, runs next to the method, as in a
// titan app. A call with a bad argument is refused by validation, inside
// the other two, so both see its error.
func ExampleWithInterceptors() {
	server, _ := netron.New(netron.Config{}, nil,
		netron.WithInterceptors(trace("outer"), authorize("s3cret")),
		netron.WithInterceptors(validate.New(nil)))
	defer server.Stop(context.Background())
	_ = server.Register("greeter", "1.0.0", Greeter{})
	addr, _ := server.Listen(context.Background(), "mem://interceptor-example")

	client, _ := netron.New(netron.Config{}, nil, netron.WithInterceptors(authorize("s3cret")))
	defer client.Stop(context.Background())
	ctx := context.Background()
	p, err := client.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	s, err := netron.CallUnary[string](ctx, p, "greeter@1.0.0", "greet", "Ada")
	fmt.Println(s, err)
	_, err = p.Call(ctx, "greeter@1.0.0", "greet", 42)
	fmt.Println(netron.CodeOf(err))
	// Output:
	// serve outer: enter greeter@1.0.0.greet
	// serve outer: leave (ok)
	// hello, Ada <nil>
	// serve outer: enter greeter@1.0.0.greet
	// serve outer: leave (invalid_argument)
	// invalid_argument
}
