package embedded_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/nats/embedded"
)

// A survivor watching the registry while the member that hosts the
// embedded server stops sees the bucket go away with the server: the
// expected moment of a handover, which it neither warns about nor
// yields as a watch error (a pool would warn about that), and it follows
// the registry again once the bucket is back.
func TestHandoverWatchIsQuiet(t *testing.T) {
	ctx := context.Background()
	url := fmt.Sprintf("nats-embedded://127.0.0.1:%d", testsrv.FreePort(t))
	host, err := embedded.Open(ctx, url, "titan", time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs testsrv.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	survivor, err := embedded.Open(ctx, url, "titan", time.Second, log)
	if err != nil {
		host.Close()
		t.Fatal(err)
	}
	defer survivor.Close()
	if err := survivor.Register(ctx, instance("x")); err != nil {
		host.Close()
		t.Fatal(err)
	}

	wctx, stop := context.WithCancel(ctx)
	var (
		mu      sync.Mutex
		errs    []error
		seen    = make(chan int, 64)
		watched sync.WaitGroup
	)
	watched.Go(func() {
		for ins, err := range survivor.Watch(wctx, discovery.Query{Service: "users"}) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				continue
			}
			select {
			case seen <- len(ins):
			default:
			}
		}
	})
	defer func() { stop(); watched.Wait() }()
	select {
	case <-seen: // the instance x
	case <-time.After(5 * time.Second):
		host.Close()
		t.Fatal("the watch did not see the instance")
	}

	host.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !survivor.Hosting() {
		if time.Now().After(deadline) {
			t.Fatal("the survivor did not take the server over within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Heartbeats recreate the bucket; the watch follows it again and
	// sees a second instance.
	back := false
	for !back && time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = survivor.Register(rctx, instance("x"))
		_ = survivor.Register(rctx, instance("y"))
		cancel()
		timeout := time.After(100 * time.Millisecond)
	wait:
		for {
			select {
			case n := <-seen:
				if n == 2 {
					back = true
					break wait
				}
			case <-timeout:
				break wait
			}
		}
	}
	if !back {
		t.Fatal("the watch did not follow the registry again after the handover")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, err := range errs {
		if strings.Contains(err.Error(), "stream not found") {
			t.Errorf("the watch yielded the handover as an error: %v", err)
		}
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "stream not found") {
			t.Errorf("the survivor warned about the handover: %s", line)
		}
	}
}
