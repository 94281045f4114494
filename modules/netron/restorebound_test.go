package netron_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// slowSubscribe is an EventAccess whose MaySubscribe takes delay.
type slowSubscribe struct{ delay atomic.Int64 }

func (a *slowSubscribe) Identify(ctx context.Context, _ netron.Credentials) (context.Context, error) {
	return ctx, nil
}
func (a *slowSubscribe) Visible(context.Context, *netron.MethodSpec) bool { return true }
func (a *slowSubscribe) MaySubscribe(context.Context, string) error {
	time.Sleep(time.Duration(a.delay.Load()))
	return nil
}

// After a reconnect, each subscription is restored within a
// RequestTimeout of its own: on a slow link, subscriptions that together
// take longer than one are all restored, none of them given up on (and
// reported as not restored) because those before it took the time.
func TestReconnectRestoresEverySubscriptionOnASlowLink(t *testing.T) {
	t.Parallel()
	acc := &slowSubscribe{}
	s, _ := netronServer(t, "tcp", netron.Config{}, nil, netron.WithAccess(acc))
	log, records := captureLogger()
	client, err := netron.New(netron.Config{RequestTimeout: time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := client.Dial(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	const topics = 8
	var mu sync.Mutex
	got := map[string]bool{}
	for i := range topics {
		topic := fmt.Sprintf("slow.%d", i)
		unsub, err := p.Subscribe(ctx, topic, func(_ context.Context, e netron.Event) {
			mu.Lock()
			got[e.Topic] = true
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		defer unsub()
	}
	// Each subscribe now takes a quarter of the timeout: the eight take
	// twice one.
	acc.delay.Store(int64(250 * time.Millisecond))
	peers := s.n.Peers()
	if len(peers) != 1 {
		t.Fatalf("the server has %d peers, want 1", len(peers))
	}
	peers[0].Close()
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == topics {
			if bad := records.count("could not restore a subscription"); bad > 0 {
				t.Fatalf("%d of the %d subscriptions were reported not restored", bad, topics)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("after the reconnect, %d of the %d subscriptions were restored", n, topics)
		}
		for i := range topics {
			_ = s.n.Emit(ctx, fmt.Sprintf("slow.%d", i), i)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
