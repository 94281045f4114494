package redis_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A registry key that someone else set to another type than the
// registry's own (a string where an instance's hash or a service's index
// set belongs) never stops the registry from serving: Register replaces
// it with the instance, Deregister deletes it, Health reports no such
// instance, and Services and Discover skip it; each is logged with the
// key and its type.
func TestKeysOfAnotherType(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw := rawClient(t, url)
	setup := func(t *testing.T) (p string, logs *testsrv.LogBuffer) {
		p = prefix(t, url)
		return p, &testsrv.LogBuffer{}
	}
	must := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	logged := func(t *testing.T, logs *testsrv.LogBuffer, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(logs.String(), w) {
				t.Errorf("the log does not say %q: %s", w, logs.String())
			}
		}
	}

	t.Run("Register replaces a string at its id's key", func(t *testing.T) {
		p, logs := setup(t)
		r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
		key := p + ":discovery:instance:a"
		must(t, raw.Set(ctx, key, "left by someone else", 0).Err())
		if err := r.Register(ctx, testsrv.Instance("a", "1.0.0")); err != nil {
			t.Fatalf("Register over a string key: %v", err)
		}
		if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "a" {
			t.Errorf("Discover = %q, %v; want a", testsrv.IDs(got), err)
		}
		if ttl, err := raw.PTTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("the entry's time to live is %v, %v; want the registry's minute", ttl, err)
		}
		logged(t, logs, key, "type=string")
	})

	t.Run("Register replaces an index that is not a set", func(t *testing.T) {
		p, logs := setup(t)
		r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
		index, services := p+":discovery:service:users", p+":discovery:services"
		must(t, raw.Set(ctx, index, "not a set", 0).Err())
		must(t, raw.HSet(ctx, services, "not", "a set").Err())
		if err := r.Register(ctx, testsrv.Instance("a", "1.0.0")); err != nil {
			t.Fatalf("Register with an index of another type: %v", err)
		}
		if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "a" {
			t.Errorf("Discover = %q, %v; want a", testsrv.IDs(got), err)
		}
		if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != "users" {
			t.Errorf("Services = %v, %v; want [users]", names, err)
		}
		logged(t, logs, index, "type=string", services, "type=hash")
	})

	t.Run("Deregister deletes a key of another type at the id", func(t *testing.T) {
		p, logs := setup(t)
		r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
		key := p + ":discovery:instance:a"
		must(t, raw.RPush(ctx, key, "x").Err())
		if err := r.Deregister(ctx, "a"); err != nil {
			t.Fatalf("Deregister of a list key: %v", err)
		}
		if n, err := raw.Exists(ctx, key).Result(); err != nil || n != 0 {
			t.Errorf("the list key is still there (%d, %v)", n, err)
		}
		logged(t, logs, key, "type=list")
	})

	t.Run("Health of an id whose key is not a hash", func(t *testing.T) {
		p, _ := setup(t)
		r := open(t, url, p, time.Minute, nil)
		key := p + ":discovery:instance:a"
		must(t, raw.Set(ctx, key, "x", 0).Err())
		h, err := r.Health(ctx, "a")
		if !errors.Is(err, discovery.ErrNotFound) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "string") {
			t.Errorf("Health = %q, %v; want ErrNotFound naming %s and its type", h, err, key)
		}
	})

	t.Run("Services and Discover skip an index that is not a set", func(t *testing.T) {
		p, logs := setup(t)
		r := open(t, url, p, time.Minute, slog.New(slog.NewTextHandler(logs, nil)))
		must(t, r.Register(ctx, testsrv.Instance("a", "1.0.0")))
		index := p + ":discovery:service:orders"
		must(t, raw.SAdd(ctx, p+":discovery:services", "orders").Err())
		must(t, raw.Set(ctx, index, "not a set", 0).Err())
		if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != "users" {
			t.Errorf("Services = %v, %v; want [users], the bad index skipped", names, err)
		}
		if got, err := r.Discover(ctx, discovery.Query{Service: "orders"}); err != nil || len(got) != 0 {
			t.Errorf("Discover(orders) = %q, %v; want none", testsrv.IDs(got), err)
		}
		logged(t, logs, "skipping a service index that is not a set", index, "type=string")
		if s, err := raw.Get(ctx, index).Result(); err != nil || s != "not a set" {
			t.Errorf("reading changed the bad index (%q, %v): only writes replace it", s, err)
		}
		services := p + ":discovery:services"
		must(t, raw.Del(ctx, services).Err())
		must(t, raw.Set(ctx, services, "not a set", 0).Err())
		if names, err := r.Services(ctx); err != nil || len(names) != 0 {
			t.Errorf("Services with a list of names that is not a set = %v, %v; want none", names, err)
		}
		logged(t, logs, "skipping a list of services that is not a set", services)
	})
}
