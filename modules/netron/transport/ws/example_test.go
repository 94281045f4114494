package ws_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/titanframework/titan/modules/netron/transport"
	_ "github.com/titanframework/titan/modules/netron/transport/ws"
)

// The listen address chooses the path and the keep-alive; Dial sends the token in the
// upgrade URL, as netron-browser does, and the accepted connection reports it.
func Example() {
	ctx := context.Background()
	// Close waits at most CloseTimeout (1 s by default) for the peer's close frame, which a
	// peer that is not reading, as here, never sends.
	l, err := transport.Listen(ctx, "ws://127.0.0.1:0/netron?ping=10s", transport.Options{CloseTimeout: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	accepted := make(chan transport.Conn, 1)
	go func() {
		c, err := l.Accept(ctx)
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := transport.Dial(ctx, l.Addr()+"?token=abc", transport.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	server, ok := <-accepted
	if !ok {
		log.Fatal("accept failed")
	}
	defer server.Close()

	if err := client.WriteMessages([]byte(`{"type":"client-id","id":"c1"}`)); err != nil {
		log.Fatal(err)
	}
	msg, err := server.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	fmt.Println("token:", server.(transport.Credentials).Token())
	// Output:
	// {"type":"client-id","id":"c1"}
	// token: abc
}
