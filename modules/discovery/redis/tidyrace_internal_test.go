package redis

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// beforeTidy runs do once, before the first write of the client that
// names key (the SREM, or script, that takes stale members out of it):
// between a read that found them stale and the write.
type beforeTidy struct {
	key   string
	do    func()
	fired atomic.Bool
}

func (h *beforeTidy) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *beforeTidy) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *beforeTidy) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		switch cmd.Name() {
		case "srem", "evalsha", "eval":
			if slices.Contains(cmd.Args(), any(h.key)) && h.fired.CompareAndSwap(false, true) {
				h.do()
			}
		}
		return next(ctx, cmd)
	}
}

// A reader takes the ids whose entries expired out of the index, and the
// services left without instances out of the list of services; an
// instance that registers between the read and that write stays listed,
// instead of being unlisted until its next heartbeat.
func TestTidyingKeepsWhatRegisteredMeanwhile(t *testing.T) {
	t.Parallel()
	url := testsrv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts, _ := goredis.ParseURL(url)
	raw := goredis.NewClient(opts)
	defer raw.Close()
	open := func(t *testing.T, p string) *Registry {
		r, err := Open(ctx, url, p, time.Minute, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("an id registered again as its expired entry leaves the index", func(t *testing.T) {
		p := testsrv.RedisPrefix(t, url)
		reader, writer := open(t, p), open(t, p)
		in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
		must(t, writer.Register(ctx, in))
		must(t, raw.Del(ctx, writer.instanceKey(in.ID)).Err()) // expired
		h := &beforeTidy{key: reader.indexKey("users"), do: func() { must(t, writer.Register(ctx, in)) }}
		reader.c.AddHook(h)
		if _, err := reader.Discover(ctx, discovery.Query{Service: "users"}); err != nil {
			t.Fatal(err)
		}
		if !h.fired.Load() {
			t.Fatal("the reader did not tidy the index")
		}
		if got, err := writer.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != in.ID {
			t.Errorf("Discover after the instance registered again = %q, %v; want %s", testsrv.IDs(got), err, in.ID)
		}
	})

	t.Run("a service that gains an instance as it leaves the list", func(t *testing.T) {
		p := testsrv.RedisPrefix(t, url)
		reader, writer := open(t, p), open(t, p)
		old, joined := testsrv.Instance("app1/users@1.0.0", "1.0.0"), testsrv.Instance("app2/users@1.0.0", "1.0.0")
		must(t, writer.Register(ctx, old))
		must(t, raw.Del(ctx, writer.instanceKey(old.ID)).Err()) // expired
		h := &beforeTidy{key: reader.servicesKey(), do: func() { must(t, writer.Register(ctx, joined)) }}
		reader.c.AddHook(h)
		if _, err := reader.Services(ctx); err != nil {
			t.Fatal(err)
		}
		if !h.fired.Load() {
			t.Fatal("the reader did not tidy the list of services")
		}
		if names, err := writer.Services(ctx); err != nil || !slices.Equal(names, []string{"users"}) {
			t.Errorf("Services after an instance joined = %v, %v; want [users]", names, err)
		}
	})
}
