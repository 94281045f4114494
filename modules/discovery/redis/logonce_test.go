package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A malformed entry is skipped on every read, and logged once, not on
// every read (a watch reads every TTL/3, each client on each change): a
// value that does not decode, a key of another type, an instance under
// another id's key, an index that is not a set. One that is fixed and
// broken again is logged again.
func TestMalformedEntryLoggedOnce(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	p := prefix(t, url)
	var logs testsrv.LogBuffer
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Register(ctx, testsrv.Instance("good", "1.0.0")))
	key := func(id string) string { return p + ":discovery:instance:" + id }
	must(raw.SAdd(ctx, p+":discovery:service:users", "junk", "str", "other").Err())
	must(raw.HSet(ctx, key("junk"), "json", "{not json", "service", "users").Err())
	must(raw.Set(ctx, key("str"), "not a hash", time.Minute).Err())
	must(raw.HSet(ctx, key("other"), "json", `{"id":"good","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`, "service", "users").Err())
	must(raw.SAdd(ctx, p+":discovery:services", "orders").Err())
	must(raw.Set(ctx, p+":discovery:service:orders", "not a set", time.Minute).Err())

	read := func() {
		t.Helper()
		for range 5 {
			if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "good" {
				t.Fatalf("Discover = %q, %v; want good, the malformed entries skipped", testsrv.IDs(got), err)
			}
			if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != "users" {
				t.Fatalf("Services = %v, %v; want [users]", names, err)
			}
		}
	}
	read()
	count := func(k string) int {
		return strings.Count(logs.String(), "key="+k+" ") + strings.Count(logs.String(), "key="+k+"\n")
	}
	for _, k := range []string{key("junk"), key("str"), key("other"), p + ":discovery:service:orders"} {
		if n := count(k); n != 1 {
			t.Errorf("%s was logged %d times in 10 reads (5 Discover, 5 Services), want once:\n%s", k, n, logs.String())
		}
	}
	// junk is fixed, then broken again: logged again, once.
	must(raw.HSet(ctx, key("junk"), "json", `{"id":"junk","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"unhealthy"}`).Err())
	if _, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil {
		t.Fatal(err)
	}
	must(raw.HSet(ctx, key("junk"), "json", "[]").Err())
	read()
	if n := count(key("junk")); n != 2 {
		t.Errorf("%s, broken again after it was fixed, was logged %d times in all, want twice:\n%s", key("junk"), n, logs.String())
	}
}
