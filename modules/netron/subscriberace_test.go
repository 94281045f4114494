package netron_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// A subscription made while the last one to the same topic is being
// unsubscribed stays live: the unsubscribe does not end it on the server
// (whichever of the two is sent first, the topic's subscription on the
// server ends as the handlers left on this side say).
func TestPeerSubscribeWhileUnsubscribing(t *testing.T) {
	t.Parallel()
	s, _ := netronServer(t, "tcp", netron.Config{}, nil)
	p := dial(t, s.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range 50 {
		unsub0, err := p.Subscribe(ctx, "feed", func(context.Context, netron.Event) {})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan struct{}, 1)
		var (
			unsub func()
			serr  error
			wg    sync.WaitGroup
		)
		wg.Go(func() {
			unsub, serr = p.Subscribe(ctx, "feed", func(_ context.Context, e netron.Event) {
				var v int
				if e.Decode(&v) == nil && v == i {
					select {
					case got <- struct{}{}:
					default:
					}
				}
			})
		})
		wg.Go(unsub0)
		wg.Wait()
		if serr != nil {
			t.Fatal(serr)
		}
		if err := s.n.Emit(ctx, "feed", i); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: a subscription made while the previous one was unsubscribed receives no event", i)
		}
		unsub()
	}
}
