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

// An instance whose entry expired and that registers again under another
// service finds no former service to leave: the first service's index
// still names it. Reading that service drops the id from its index, as it
// does an expired one, instead of warning on every read (a watch reads
// every TTL/3) of an entry someone else wrote.
func TestAnInstanceBackUnderAnotherServiceLeavesTheFirstIndex(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	p := prefix(t, url)
	logs := &testsrv.LogBuffer{}
	r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
	in := testsrv.Instance("app1/x", "1.0.0")
	in.Service = "users"
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	// Its entry expires (deleted here rather than waited for).
	if err := raw.Del(ctx, p+":discovery:instance:app1/x").Err(); err != nil {
		t.Fatal(err)
	}
	in.Service = "orders"
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 0 {
			t.Fatalf("Discover(users) = %q, %v; want none", testsrv.IDs(got), err)
		}
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "orders"}); err != nil || testsrv.IDs(got) != "app1/x" {
		t.Fatalf("Discover(orders) = %q, %v", testsrv.IDs(got), err)
	}
	if in, err := raw.SIsMember(ctx, p+":discovery:service:users", "app1/x").Result(); err != nil || in {
		t.Errorf("the index of users still names the instance that moved: %v, %v", in, err)
	}
	if s := logs.String(); strings.Contains(s, "level=WARN") {
		t.Errorf("reading the service the instance left logged a warning:\n%s", s)
	}
}
