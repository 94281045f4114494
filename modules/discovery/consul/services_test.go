package consul_test

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A service whose instances all crashed (their checks critical, the
// agent yet to remove them, a minute later) leaves Services as it left
// Discover, as with every other backend: it lists services with a live
// instance.
func TestServicesListsLiveServices(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	r := open(t, f.url(), 300*time.Millisecond)
	alive := instance("app1/users@1.0.0", "1.0.0")
	crashed := instance("app2/orders@1.0.0", "1.0.0")
	crashed.Service = "orders"
	if err := r.Register(ctx, alive); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	if names, err := r.Services(ctx); err != nil || !slices.Equal(names, []string{"orders", "users"}) {
		t.Fatalf("Services = %v, %v; want [orders users]", names, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := r.Register(ctx, alive); err != nil { // alive heartbeats; crashed does not
			t.Fatal(err)
		}
		names, err := r.Services(ctx)
		if err == nil && slices.Equal(names, []string{"users"}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Services = %v, %v, 5s after orders' only instance crashed (TTL 300ms); want [users]", names, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
