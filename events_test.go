package titan_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/netron"
)

// Ledger is a service whose constructor takes the app's Events, as
// DESIGN.md allows: it emits ledger.posted after each post and counts
// the audit events it subscribed to in its constructor.
type Ledger struct {
	events netron.Events
	mu     sync.Mutex
	audits []string
}

func NewLedger(ev netron.Events) (*Ledger, error) {
	l := &Ledger{events: ev}
	_, err := ev.Subscribe(context.Background(), "audit.*", func(_ context.Context, e netron.Event) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.audits = append(l.audits, e.Topic)
	})
	return l, err
}

func (l *Ledger) Post(ctx context.Context, amount int) (int, error) {
	return amount, l.events.Emit(ctx, "ledger.posted", amount)
}

func (l *Ledger) Audits(context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.audits...), nil
}

// A service constructor may take netron.Events: the app's Netron (built
// from the services) uses the same bus, so the service's events reach
// local subscribers and subscribed peers, and what the app emits reaches
// the service.
func TestServiceConstructorTakesEvents(t *testing.T) {
	t.Parallel()
	var n *netron.Netron
	startApp(t,
		titan.WithConfig(quiet("netron.listen=tcp://127.0.0.1:0")),
		titan.Service("ledger", "1.0.0", NewLedger),
		titan.Invoke(func(nn *netron.Netron) { n = nn }),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	peer, err := client.Dial(ctx, n.Addrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	if _, err := peer.Subscribe(ctx, "ledger.posted", func(_ context.Context, e netron.Event) {
		var v int
		if err := e.Decode(&v); err == nil {
			got <- v
		}
	}); err != nil {
		t.Fatal(err)
	}
	if v, err := netron.CallUnary[int](ctx, peer, "ledger@1.0.0", "post", 42); err != nil || v != 42 {
		t.Fatalf("post = %v, %v", v, err)
	}
	select {
	case v := <-got:
		if v != 42 {
			t.Fatalf("ledger.posted carried %d", v)
		}
	case <-ctx.Done():
		t.Fatal("the peer got no ledger.posted event: the service's Events are not the Netron's")
	}
	if err := n.Emit(ctx, "audit.login", "alice"); err != nil {
		t.Fatal(err)
	}
	audits, err := netron.CallUnary[[]string](ctx, peer, "ledger@1.0.0", "audits")
	if err != nil || len(audits) != 1 || audits[0] != "audit.login" {
		t.Fatalf("audits = %v, %v; want the event the app emitted", audits, err)
	}
}
