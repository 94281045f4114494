package nats_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A watch ended by its caller while the server does not answer (an app
// stopping) ends at once: stopping its watcher deletes the watcher's
// consumer, a request that would wait out JetStream's timeout (5 s), and
// the app's stop would wait as long for each watch.
func TestWatchEndsAtOnceWhileTheServerIsSilent(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testsrv.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	hole := testsrv.RelayTo(t, u.Host)
	r := open(t, "nats://"+hole.Addr(), prefix(t, u.String()), time.Minute, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for range r.Watch(ctx, discovery.Query{Service: "users"}) {
			select {
			case <-first:
			default:
				close(first)
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch sent no first snapshot in 5 s")
	}
	hole.Swallow()
	cancel()
	start := time.Now()
	select {
	case <-ended:
	case <-time.After(time.Second):
		<-ended
		t.Fatalf("the watch ended %v after its context, with the server silent; want at once", time.Since(start).Round(100*time.Millisecond))
	}
}
