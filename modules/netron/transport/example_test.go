package transport_test

import (
	"context"
	"fmt"

	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/mem"
)

// Example listens and dials by URL; the scheme picks the transport (here the in-process one).
func Example() {
	ctx := context.Background()
	l, err := transport.Listen(ctx, "mem://calculator", transport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	client, err := transport.Dial(ctx, l.Addr(), transport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	server, err := l.Accept(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer server.Close()

	// One call, one batch: the messages arrive in order, one ReadMessage each.
	if err := client.WriteMessages([]byte(`{"type":"client-id"}`), []byte("packet")); err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		msg, err := server.ReadMessage()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s from %s\n", msg, server.RemoteAddr())
	}

	_, err = transport.Dial(ctx, "mem://nobody", transport.Options{})
	fmt.Println(err)
	// Output:
	// {"type":"client-id"} from mem://calculator#1
	// packet from mem://calculator#1
	// mem: dial mem://nobody: no mem listener named "nobody"
}
