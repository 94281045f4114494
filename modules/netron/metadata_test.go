package netron_test

import (
	"context"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// Whoami answers with the metadata its caller sent.
type Whoami struct{}

func (Whoami) Who(ctx context.Context) (string, error) {
	return netron.IncomingMetadata(ctx)["user"], nil
}

// A caller sends metadata with its context (no interceptor needed), and
// the method reads it from its own, over a connection and through Invoke.
func TestCallMetadata(t *testing.T) {
	t.Parallel()
	n, p := serveOnTCP(t, map[string]any{"whoami": Whoami{}})
	ctx := netron.WithOutgoingMetadata(context.Background(), map[string]string{"user": "ada"})
	if who, err := netron.CallUnary[string](ctx, p, "whoami@1.0.0", "who"); err != nil || who != "ada" {
		t.Fatalf("who = %q, %v; want ada", who, err)
	}
	if who, err := netron.CallUnary[string](context.Background(), p, "whoami@1.0.0", "who"); err != nil || who != "" {
		t.Fatalf("who without metadata = %q, %v", who, err)
	}
	res, err := n.Invoke(context.Background(), &netron.Invocation{Service: "whoami@1.0.0", Method: "who", Metadata: map[string]string{"user": "bob"}})
	if err != nil || res != "bob" {
		t.Fatalf("Invoke who = %v, %v; want bob", res, err)
	}
	// Interceptors see a copy: changing it leaves the caller's map alone.
	md := map[string]string{"user": "eve"}
	_, _ = netron.CallUnary[string](netron.WithOutgoingMetadata(context.Background(), md), p, "whoami@1.0.0", "who")
	if md["user"] != "eve" || len(md) != 1 {
		t.Fatalf("the caller's map changed: %v", md)
	}
}
