package nats_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A malformed entry someone else wrote is skipped on every read, and
// logged once, not on every read (each Discover, Services and Health, a
// watch each time it watches again): a value that is not an instance, an
// instance under another key than its own. One that is fixed and broken
// again is logged again.
func TestMalformedEntryLoggedOnce(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var logs testsrv.LogBuffer
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := r.Register(ctx, testsrv.Instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	kv, err := jetStream(t, url).KeyValue(ctx, p+"_discovery")
	if err != nil {
		t.Fatal(err)
	}
	put := func(k, v string) {
		t.Helper()
		if _, err := kv.Put(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	key := func(id string) string { return "users." + base64.RawURLEncoding.EncodeToString([]byte(id)) }
	junk, other := key("junk"), key("other")
	put(junk, "{not json")
	put(other, `{"id":"good","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy"}`)
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
	count := func(k string) int { return strings.Count(logs.String(), "key="+k+" ") }
	for _, k := range []string{junk, other} {
		if n := count(k); n != 1 {
			t.Errorf("%s was logged %d times in 10 reads (5 Discover, 5 Services), want once:\n%s", k, n, logs.String())
		}
	}
	// junk is fixed, then broken again: logged again, once.
	put(junk, `{"id":"junk","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"unhealthy"}`)
	if _, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil {
		t.Fatal(err)
	}
	put(junk, "[]")
	read()
	if n := count(junk); n != 2 {
		t.Errorf("%s, broken again after it was fixed, was logged %d times in all, want twice:\n%s", junk, n, logs.String())
	}
}
