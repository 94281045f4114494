package netron_test

import (
	"context"
	"strings"
	"testing"

	"github.com/titanframework/titan/modules/netron"
)

// A peer's subscriptions last as long as its connection: each event name
// it subscribes to is bounded, or MaxSubscriptionsPerPeer names of up to
// a frame each (16 GiB by default) would be held for it.
func TestSubscribeTopicLengthIsBounded(t *testing.T) {
	t.Parallel()
	s := startServer(t, "tcp")
	ctx := context.Background()
	p, err := netron.Dial(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	err = p.Task(ctx, nil, netron.TaskSubscribe, strings.Repeat("a", 1<<20))
	if netron.CodeOf(err) != netron.CodeInvalidArgument {
		t.Fatalf("subscribing to a 1 MiB event name: %v, want invalid_argument", err)
	}
	if err := p.Task(ctx, nil, netron.TaskSubscribe, "chat."+strings.Repeat("a", 500)); err != nil {
		t.Fatalf("subscribing to an ordinary event name: %v", err)
	}
}
