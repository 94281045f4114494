package redis_test

import (
	"context"
	"errors"
	neturl "net/url"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// relayTo starts a black hole in front of the Redis at url and returns
// it and the URL to dial through it.
func relayTo(t *testing.T, url string) (*testsrv.BlackHole, string) {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	b := testsrv.RelayTo(t, u.Host)
	u.Host = b.Addr()
	return b, u.String()
}

// A watch whose caller cancels it while Redis does not answer (the watch
// waiting for its read of the service) ends at once, not when go-redis's
// read times out (a second, twice with its retry): an app stopping waited
// for it.
func TestCancelledWatchEndsAtOnceWithRedisSilent(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	hole, through := relayTo(t, url)
	r := open(t, through, prefix(t, url), 60*time.Millisecond, nil) // a read of the service every 20ms
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, err := range r.Watch(ctx, discovery.Query{Service: in.Service}) {
			if err == nil {
				select {
				case first <- struct{}{}:
				default:
				}
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		t.Fatal("no first snapshot within 5s")
	}
	hole.Swallow()
	for hole.Lost() == 0 { // a read of the service is waiting for its answer
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case <-done:
		if took := time.Since(start); took > 300*time.Millisecond {
			t.Errorf("the watch ended %v after its context was cancelled, want at once", took.Round(time.Millisecond))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watch went on for 5s after its context was cancelled")
	}
}

// Register (a heartbeat) and Deregister cancelled while Redis does not
// answer end at once with the context's error: an app stopping cancels
// its heartbeat, and waited for go-redis's read to time out.
func TestCancelledCallsEndAtOnceWithRedisSilent(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	hole, through := relayTo(t, url)
	r := open(t, through, prefix(t, url), time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	hole.Swallow()
	for name, call := range map[string]func(context.Context) error{
		"Register":   func(ctx context.Context) error { return r.Register(ctx, in) },
		"Deregister": func(ctx context.Context) error { return r.Deregister(ctx, in.ID) },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		lost := hole.Lost()
		done := make(chan error, 1)
		go func() { done <- call(ctx) }()
		for hole.Lost() == lost { // the command is waiting for its answer
			time.Sleep(time.Millisecond)
		}
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if took := time.Since(start); took > 300*time.Millisecond {
				t.Errorf("%s ended %v after its context was cancelled, want at once", name, took.Round(time.Millisecond))
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled: %v, want context.Canceled", name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s went on for 5s after its context was cancelled", name)
		}
	}
}
