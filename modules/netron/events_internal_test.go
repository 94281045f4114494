package netron

import (
	"context"
	"testing"
	"time"
)

// A subscribe task that runs after its connection ended (its goroutine
// was scheduled late: the peer sent it and hung up) must not leave the
// dead peer subscribed: nothing would ever remove it.
func TestSubscribeAfterConnectionEndLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n, addr := ServeForTest(t, Config{}, "mem://", nil)
	client, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	var served *Peer
	for deadline := time.Now().Add(5 * time.Second); served == nil && time.Now().Before(deadline); {
		if ps := n.Peers(); len(ps) == 1 {
			served = ps[0]
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	if served == nil {
		t.Fatal("the server never saw the client")
	}
	c := served.cur.Load()
	client.Close()
	select {
	case <-served.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the server kept the connection")
	}
	// The task's context, as handleTask makes it, on the ended connection.
	tctx := withPeer(c.ctx, served)
	n.mu.RLock()
	subscribe := n.tasks[TaskSubscribe]
	n.mu.RUnlock()
	_, _ = subscribe(tctx, served, []any{"late"})
	n.events.mu.RLock()
	held := len(n.events.peers["late"])
	n.events.mu.RUnlock()
	served.mu.Lock()
	subs := len(served.remoteSubs)
	served.mu.Unlock()
	if held != 0 || subs != 0 {
		t.Fatalf("a peer whose connection ended is subscribed: bus holds %d peers for the topic, the peer %d subscriptions", held, subs)
	}
}
