package netron_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
)

// Criterion 9: events in-process with patterns.
func TestAcceptanceEventsLocalPatterns(t *testing.T) {
	t.Parallel()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop(context.Background())
	var mu sync.Mutex
	got := map[string][]string{}
	for _, pattern := range []string{"chat.*", "orders.>", "exact.topic", "*.created"} {
		unsub, err := n.Subscribe(context.Background(), pattern, func(_ context.Context, e netron.Event) {
			mu.Lock()
			got[pattern] = append(got[pattern], e.Topic)
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		defer unsub()
	}
	ctx := context.Background()
	for _, topic := range []string{
		"chat.message", "chat", "chat.room.message",
		"orders.created", "orders.eu.created", "orders",
		"exact.topic", "exact.topic.more", "exact",
		"users.created",
	} {
		if err := n.Emit(ctx, topic, topic); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		"chat.*":      {"chat.message"},
		"orders.>":    {"orders.created", "orders.eu.created"},
		"exact.topic": {"exact.topic"},
		"*.created":   {"orders.created", "users.created"},
	}
	mu.Lock()
	defer mu.Unlock()
	for pattern, w := range want {
		if !slices.Equal(got[pattern], w) {
			t.Errorf("%s received %q, want %q", pattern, got[pattern], w)
		}
	}
	for _, bad := range []string{"", "a..b", "a.>.b"} {
		if _, err := n.Subscribe(context.Background(), bad, func(context.Context, netron.Event) {}); err == nil {
			t.Errorf("Subscribe(%q) succeeded", bad)
		}
	}
	if err := n.Emit(ctx, "chat.*", 1); err == nil {
		t.Error("Emit to a pattern succeeded")
	}
}

// Criterion 9: events across peers, in order, and the subscription cap.
func TestAcceptanceEventsAcrossPeers(t *testing.T) {
	t.Parallel()
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			s, _ := netronServer(t, scheme, netron.Config{MaxSubscriptionsPerPeer: 3}, nil)
			p := dial(t, s.addr)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			const events = 100
			got := make(chan int, events)
			unsub, err := p.Subscribe(ctx, "feed", func(_ context.Context, e netron.Event) {
				var v int
				if err := e.Decode(&v); err != nil {
					v = -1
				}
				got <- v
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range events {
				if err := s.n.Emit(ctx, "feed", i); err != nil {
					t.Fatal(err)
				}
			}
			for i := range events {
				select {
				case v := <-got:
					if v != i {
						t.Fatalf("event %d carried %d: order not preserved", i, v)
					}
				case <-ctx.Done():
					t.Fatalf("received %d of %d events", i, events)
				}
			}

			// The cap: feed + 2 more is 3; subscribing to one again is free;
			// a 4th topic is refused with resource_exhausted.
			held := map[string]func(){}
			for _, topic := range []string{"a", "b", "a"} {
				u, err := p.Subscribe(ctx, topic, func(context.Context, netron.Event) {})
				if err != nil {
					t.Fatalf("subscription to %s: %v", topic, err)
				}
				held[topic] = u
			}
			_, err = p.Subscribe(ctx, "d", func(context.Context, netron.Event) {})
			if netron.CodeOf(err) != netron.CodeResourceExhausted {
				t.Fatalf("4th subscription: %v, want resource_exhausted", err)
			}
			// Unsubscribing makes room.
			unsub()
			u, err := p.Subscribe(ctx, "d", func(context.Context, netron.Event) {})
			if err != nil {
				t.Fatalf("subscription after unsubscribing: %v", err)
			}
			u()
			for _, u := range held {
				u()
			}
		})
	}
}
