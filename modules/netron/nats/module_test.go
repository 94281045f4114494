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

// TestAppEventsURLPasswordNotShown: a nats.events URL with a password
// (nats://user:pass@host) is not shown with it in the start-up error nor
// in the log, as nats:// addresses of the gateway are not.
func TestAppEventsURLPasswordNotShown(t *testing.T) {
	t.Parallel()
	for _, events := range []string{"nats://user:s3cr3tpw@127.0.0.1:1", "nats://s3cr3tpw@127.0.0.1:1"} {
		t.Run(events, func(t *testing.T) { testEventsURLNotShown(t, events) })
	}
}

func testEventsURLNotShown(t *testing.T, events string) {
	app := titan.New(
		titan.WithConfig(config.Options{NoDefaultFile: true, Environ: []string{}, NoWatch: true,
			Sets: []string{"nats.events=" + events, "logger.level=error"}}),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := app.Start(ctx)
	if err == nil {
		app.Stop(context.Background())
		t.Fatal("started with nats.events on a closed port")
	}
	if strings.Contains(err.Error(), "s3cr3tpw") {
		t.Fatalf("the start-up error shows the password of nats.events: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("the start-up error does not name the address: %v", err)
	}
}
