package embedded_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
)

// listening reports whether something accepts connections at addr.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Building an app starts no embedded server: the app's start hook does,
// and its stop hook stops it.
func TestEmbeddedServerStartsWithTheApp(t *testing.T) {
	port := testsrv.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	app := titan.New(testsrv.Settings("discovery.backend=nats", "nats.embedded=true", fmt.Sprintf("nats.embedded.port=%d", port)))
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	if listening(addr) {
		t.Fatalf("building the app started the embedded NATS server at %s", addr)
	}
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !listening(addr) {
		app.Stop(ctx)
		t.Fatalf("the started app serves no embedded NATS server at %s", addr)
	}
	if err := app.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if listening(addr) {
		t.Errorf("the embedded NATS server at %s outlived the app", addr)
	}
}
