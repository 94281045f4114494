// Package testsrv gives tests the real servers they need: the URL of the
// test Redis or NATS server, skipping the test loudly when it cannot be reached,
// or failing it under CI=true (where .ci/run starts the servers).
package testsrv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"
)

// Redis returns the URL of the test Redis server (TITAN_TEST_REDIS,
// default redis://127.0.0.1:6379/0).
func Redis(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TITAN_TEST_REDIS")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("TITAN_TEST_REDIS %q: %v", url, err)
	}
	c := goredis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unreachable(t, "REDIS", fmt.Sprintf("Redis server %s is unreachable (%v): start it, or set TITAN_TEST_REDIS", url, err))
	}
	return url
}

// RedisPrefix returns a key prefix of the test's own and deletes its keys
// from the server at url when the test ends.
func RedisPrefix(t testing.TB, url string) string {
	t.Helper()
	p := fmt.Sprintf("titantest%d", time.Now().UnixNano())
	t.Cleanup(func() {
		opts, _ := goredis.ParseURL(url)
		c := goredis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		if keys, _ := c.Keys(ctx, p+":*").Result(); len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return p
}

// NATS returns the URL of the test NATS server with JetStream
// (TITAN_TEST_NATS, default nats://127.0.0.1:4222).
func NATS(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TITAN_TEST_NATS")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	nc, err := nats.Connect(url, nats.Timeout(2*time.Second), nats.MaxReconnects(0))
	if err != nil {
		unreachable(t, "NATS", fmt.Sprintf("NATS server %s is unreachable (%v): start it, or set TITAN_TEST_NATS", url, err))
	}
	nc.Close()
	return url
}

func unreachable(t testing.TB, what, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	fmt.Fprintf(os.Stderr, "\n!!!!!!!! SKIPPING %s TESTS: %s !!!!!!!!\n\n", what, msg)
	t.Skip(msg)
}
