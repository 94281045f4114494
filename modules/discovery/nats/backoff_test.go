package nats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// A watch pausing because the bucket is gone (the server came back
// without its store) starts again as soon as the bucket is made again,
// not at the end of its pause, which grows to a third of the ttl while
// the bucket stays gone.
func TestWatchPausedForAGoneBucketHearsItMadeAgain(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	stopServer := testsrv.NATSServerAt(t, port, "")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rlog, gone := logged("the discovery bucket is gone")
	r := open(t, url, "titan", time.Minute, rlog)
	// Pauses that double from 1s reach a long one in a few steps.
	r.SetWatchRetry(time.Second)
	writer := open(t, url, "titan", time.Minute, nil)
	snaps := testsrv.WatchIDs(t, ctx, r, "users", "")
	stopServer()
	testsrv.NATSServerAt(t, port, "") // a new, empty store
	// The watch ends before the server stops.
	t.Cleanup(cancel)
	// r reconnects and watches again at once, finding the bucket gone,
	// pauses 2s (doubled from the pause after the watch that was ready),
	// finds it gone again, and pauses 4s.
	for i := range 2 {
		select {
		case <-gone:
		case <-ctx.Done():
			t.Fatalf("after the server restarted without its store, the watch found the bucket gone %d times, want 2", i)
		}
	}
	// A heartbeat makes the bucket again.
	if err := writer.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(3 * time.Second)
	for {
		select {
		case s := <-snaps:
			if s == "app1/users@1.0.0" {
				return
			}
		case <-deadline:
			t.Fatal("3 s after the bucket was made again with an instance, the watch paused (for 4 s) while it was gone had not seen it")
		}
	}
}
