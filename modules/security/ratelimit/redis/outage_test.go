package redis_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/ratelimit"
)

// silentServer accepts connections and never answers, as a Redis that
// hangs does; it returns its redis:// URL.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "redis://" + l.Addr().String() + "/0"
}

// refusedURL is a redis:// URL where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "redis://" + addr + "/0"
}

// The backend's documented bound: a Redis out of reach (refusing
// connections, or accepting them and never answering) delays a call by
// about a second at most, not by go-redis's retries of the command and of
// its dials, and the call gets an error naming Redis.
func TestBackendOutageIsBounded(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{"refused": refusedURL(t), "silent": silentServer(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			l, closer, err := ratelimit.OpenBackend(context.Background(), "redis", url, "p")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = closer.Close() })
			for i := range 2 { // the second call finds no connection kept by the first
				start := time.Now()
				d, err := l.Allow(context.Background(), fmt.Sprint("k", i), 10, time.Minute)
				took := time.Since(start)
				if err == nil || !strings.Contains(err.Error(), "redis") || d != (ratelimit.Decision{}) {
					t.Fatalf("call %d: %+v, %v; want an error naming Redis and a zero Decision", i, d, err)
				}
				if took > 1500*time.Millisecond {
					t.Fatalf("call %d took %v with Redis %s, want about a second at most: %v", i, took.Round(time.Millisecond), name, err)
				}
			}
		})
	}
}
