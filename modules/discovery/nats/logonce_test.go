package nats_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
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
	testsrv.MalformedEntriesLoggedOnce(t, ctx, r, &logs, put, junk, other)
}
