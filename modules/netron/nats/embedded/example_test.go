package embedded_test

import (
	"context"
	"fmt"

	"github.com/titanframework/titan/modules/netron"
	_ "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/nats/embedded"
)

// A service served and called over an in-process NATS server.
func ExampleStart() {
	srv, err := embedded.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	ctx := context.Background()

	n, _ := netron.New(netron.Config{}, nil)
	_ = n.Register("calculator", "1.0.0", Calc{})
	if _, err := n.Listen(ctx, srv.URL()); err != nil {
		panic(err)
	}
	defer n.Stop(ctx)

	p, err := netron.Dial(ctx, srv.URL())
	if err != nil {
		panic(err)
	}
	defer p.Close()
	sum, err := netron.CallUnary[float64](ctx, p, "calculator@^1", "add", 2, 3)
	fmt.Println(sum, err)
	// Output: 5 <nil>
}
