package nats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nuid"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
)

// TestAppEventsAcrossProcesses: two apps configured with nats.events see
// each other's Emit through NATS (each app stands for a process).
func TestAppEventsAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	prefix := "t" + strings.ToLower(nuid.Next()) // a subject space of this test's own
	start := func(opts ...titan.Option) *netron.Netron {
		var n *netron.Netron
		app := titan.New(append(opts,
			titan.WithConfig(config.Options{NoDefaultFile: true, Environ: []string{}, NoWatch: true,
				Sets: []string{"nats.events=" + url, "nats.prefix=" + prefix, "logger.level=error"}}),
			titan.Invoke(func(x *netron.Netron) { n = x }),
		)...)
		if err := app.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { app.Stop(context.Background()) })
		return n
	}
	a, b := start(), start()
	got := make(chan any, 1)
	unsub, err := b.Subscribe(context.Background(), "orders.*", func(_ context.Context, e netron.Event) { got <- e.Payload })
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	deadline := time.After(5 * time.Second)
	for {
		if err := a.Emit(context.Background(), "orders.created", "o-1"); err != nil {
			t.Fatal(err)
		}
		select {
		case v := <-got:
			if v != "o-1" {
				t.Fatalf("payload %v", v)
			}
			return
		case <-time.After(100 * time.Millisecond): // the bridge's subscription may not be live yet
		case <-deadline:
			t.Fatal("the event emitted in app a did not reach app b within 5s")
		}
	}
}
