package nats

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
)

// stuckAccess's Identify ignores its context until release is closed.
type stuckAccess struct{ release chan struct{} }

func (a stuckAccess) Identify(ctx context.Context, _ netron.Credentials) (context.Context, error) {
	<-a.release
	return ctx, nil
}

func (stuckAccess) Visible(context.Context, *netron.MethodSpec) bool { return true }

// The resolves of a service name are answered one at a time, so those
// that wait for the gateway are bounded as its authenticate requests are
// (authPendingMsgs): a flood of resolves while the access checks hang
// makes NATS drop the rest instead of the gateway's client holding them
// all.
func TestResolvesWaitingAreBounded(t *testing.T) {
	u := privateURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	access := stuckAccess{release: make(chan struct{})}
	n, err := netron.New(netron.Config{TaskTimeout: 10 * time.Second}, nil, netron.WithAccess(access))
	if err != nil {
		t.Fatal(err)
	}
	_, g := serveCounter(t, ctx, n, u)
	defer close(access.release) // before Shutdown, which waits for Identify
	var sub *nats.Subscription
	g.mu.Lock()
	for _, s := range g.subs {
		if strings.HasSuffix(s.Subject, ".resolve.counter") {
			sub = s
		}
	}
	g.mu.Unlock()
	if sub == nil {
		t.Fatal("the gateway has no resolve subscription for counter")
	}

	nc, err := nats.Connect(testsrv.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const flood = 4 * authPendingMsgs
	md, _ := json.Marshal(map[string]string{"authorization": "Bearer x"})
	for range flood {
		msg := nats.NewMsg(sub.Subject)
		msg.Reply = nats.NewInbox()
		msg.Header.Set(HeaderTarget, "counter@^1")
		msg.Header.Set(HeaderMetadata, string(md))
		if err := nc.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.FlushWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	// Every resolve has reached the gateway's client once it has them
	// pending or dropped (the one it holds aside).
	for {
		pending, _, _ := sub.Pending()
		dropped, _ := sub.Dropped()
		if pending > authPendingMsgs {
			t.Fatalf("%d resolves wait for the gateway, want at most %d", pending, authPendingMsgs)
		}
		if pending+dropped >= flood-1-resolveRunningMax {
			if dropped == 0 {
				t.Fatalf("none of %d resolves dropped (%d pending)", flood, pending)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%d resolves pending and %d dropped of %d after 20 s", pending, dropped, flood)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
