package embedded_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/nats/embedded"
)

func TestMain(m *testing.M) {
	if testsrv.Member() {
		return
	}
	goleak.VerifyTestMain(m)
}

func instance(id string) discovery.Instance {
	return discovery.Instance{ID: id, Service: "users", Version: "1.0.0", Addrs: []string{"tcp://127.0.0.1:1"}, Health: discovery.Healthy}
}

// The first registry on a machine hosts the server and the next one
// connects to it; when the host closes, the other takes the port over and
// its next heartbeat registers again, with nothing installed.
func TestHostAndTakeover(t *testing.T) {
	ctx := context.Background()
	url := fmt.Sprintf("nats-embedded://127.0.0.1:%d", testsrv.FreePort(t))
	first, err := embedded.Open(ctx, url, "titan", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := embedded.Open(ctx, url, "titan", time.Second, nil)
	if err != nil {
		first.Close()
		t.Fatal(err)
	}
	defer second.Close()
	if !first.Hosting() || second.Hosting() {
		first.Close()
		t.Fatalf("hosting: first %v, second %v; want the first only", first.Hosting(), second.Hosting())
	}
	if err := second.Register(ctx, instance("x")); err != nil {
		t.Fatal(err)
	}
	if ins, err := first.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(ins) != 1 {
		first.Close()
		t.Fatalf("the host does not see the other's instance: %v, %v", ins, err)
	}
	first.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !second.Hosting() {
		if time.Now().After(deadline) {
			t.Fatal("the survivor did not take the server over within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		err := second.Register(rctx, instance("x")) // a heartbeat
		ins, derr := second.Discover(rctx, discovery.Query{Service: "users"})
		cancel()
		if err == nil && derr == nil && len(ins) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not registered again after the takeover: %v, %v, %v", err, derr, ins)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBadURL(t *testing.T) {
	if _, err := embedded.Open(context.Background(), "nats://127.0.0.1:4222", "titan", time.Second, nil); err == nil {
		t.Fatal("a nats:// URL was taken for an embedded one")
	}
}
