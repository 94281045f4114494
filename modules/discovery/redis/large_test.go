package redis_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A valid entry longer than discovery.MaxEntryBytes (someone with access
// to the registry wrote megabytes of metadata) is skipped by every read,
// and logged once, rather than decoded and handed to every watcher.
func TestLargeEntrySkipped(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	p := prefix(t, url)
	var logs testsrv.LogBuffer
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	if err := r.Register(ctx, testsrv.Instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	big := testsrv.Instance("big", "1.0.0")
	big.Metadata = map[string]string{"blob": strings.Repeat("y", 2*discovery.MaxEntryBytes)}
	b, err := json.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	key := p + ":discovery:instance:big"
	if err := raw.HSet(ctx, key, "json", b, "service", "users").Err(); err != nil {
		t.Fatal(err)
	}
	if err := raw.SAdd(ctx, p+":discovery:service:users", "big").Err(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "good" {
			t.Fatalf("Discover = %q, %v; want good, the entry of %d bytes skipped", testsrv.IDs(got), err, len(b))
		}
	}
	if n := strings.Count(logs.String(), "key="+key); n != 1 {
		t.Errorf("the large entry was logged %d times in 5 reads, want once:\n%.2000s", n, logs.String())
	}
	if len(logs.String()) > 4000 {
		t.Errorf("%d bytes of logs for one skipped entry", len(logs.String()))
	}
}
