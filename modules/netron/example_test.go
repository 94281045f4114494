package netron_test

import (
	"context"
	"fmt"
	"iter"

	"github.com/titanframework/titan/modules/netron"
)

// Greeter is a service: exported methods with a context first are public.
type Greeter struct{}

func (Greeter) Greet(_ context.Context, name string) (string, error) {
	if name == "" {
		return "", netron.Errorf(netron.CodeInvalidArgument, "name is empty")
	}
	return "hello, " + name, nil
}

func (Greeter) Countdown(_ context.Context, from int) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		for i := from; i > 0; i-- {
			if !yield(i, nil) {
				return
			}
		}
	}
}

func serveGreeter() (*netron.Netron, string) {
	n, _ := netron.New(netron.Config{}, nil)
	_ = n.Register("greeter", "1.0.0", Greeter{})
	addr, _ := n.Listen(context.Background(), "mem://greeter-example")
	return n, addr
}

func ExampleDial() {
	server, addr := serveGreeter()
	defer server.Stop(context.Background())

	ctx := context.Background()
	p, err := netron.Dial(ctx, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	s, err := netron.CallUnary[string](ctx, p, "greeter@^1", "greet", "Ada")
	fmt.Println(s, err)
	_, err = p.Call(ctx, "greeter@1.0.0", "greet", "")
	fmt.Println(netron.CodeOf(err), err)
	for v, err := range netron.CallStream[int](ctx, p, "greeter", "countdown", 3) {
		fmt.Println(v, err)
	}
	// Output:
	// hello, Ada <nil>
	// invalid_argument invalid_argument: name is empty
	// 3 <nil>
	// 2 <nil>
	// 1 <nil>
}

func ExamplePeer_Bind() {
	server, addr := serveGreeter()
	defer server.Stop(context.Background())

	ctx := context.Background()
	p, _ := netron.Dial(ctx, addr)
	defer p.Close()

	var greeter struct {
		Greet     func(ctx context.Context, name string) (string, error)
		Countdown func(ctx context.Context, from int) iter.Seq2[int, error]
	}
	if err := p.Bind(ctx, "greeter@^1.0", &greeter); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(greeter.Greet(ctx, "Grace"))
	for v := range greeter.Countdown(ctx, 2) {
		fmt.Println(v)
	}
	// Output:
	// hello, Grace <nil>
	// 2
	// 1
}

func ExampleNetron_Subscribe() {
	n, _ := netron.New(netron.Config{}, nil)
	defer n.Stop(context.Background())
	unsubscribe, _ := n.Subscribe(context.Background(), "orders.*", func(_ context.Context, e netron.Event) {
		fmt.Println(e.Topic, e.Payload)
	})
	defer unsubscribe()
	_ = n.Emit(context.Background(), "orders.created", "o-1")
	_ = n.Emit(context.Background(), "orders.eu.created", "o-2") // "*" is one token
	_ = n.Emit(context.Background(), "orders.paid", "o-1")
	// Output:
	// orders.created o-1
	// orders.paid o-1
}

// Shop gives its unary methods as MethodFuncs, so that Netron calls them
// without reflection; Quote, left out, is found by reflection.
type Shop struct{ discount float64 }

// Line is an argument: its tags are its contract.
type Line struct {
	Item string `json:"item" jsonschema:"minLength=1"`
	Qty  int    `json:"qty" jsonschema:"minimum=1"`
}

func (s *Shop) Total(_ context.Context, l Line, price float64) (float64, error) {
	return float64(l.Qty) * price * (1 - s.discount), nil
}

func (s *Shop) Quote(_ context.Context, item string) (string, error) { return item + ": ask us", nil }

func (s *Shop) NetronMethods() map[string]netron.MethodFunc {
	return map[string]netron.MethodFunc{"Total": netron.Func2(s.Total)}
}

func ExampleMethodFuncs() {
	n, _ := netron.New(netron.Config{}, nil)
	if err := n.Register("shop", "1.0.0", &Shop{discount: 0.5}); err != nil {
		fmt.Println(err)
		return
	}
	addr, _ := n.Listen(context.Background(), "mem://shop-example")
	defer n.Stop(context.Background())

	ctx := context.Background()
	p, _ := netron.Dial(ctx, addr)
	defer p.Close()
	total, err := netron.CallUnary[float64](ctx, p, "shop@1.0.0", "total", Line{Item: "pen", Qty: 4}, 2.5)
	fmt.Println(total, err)
	quote, err := netron.CallUnary[string](ctx, p, "shop@1.0.0", "quote", "lamp")
	fmt.Println(quote, err)
	// Output:
	// 5 <nil>
	// lamp: ask us <nil>
}
