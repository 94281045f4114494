package consul_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/consul"
)

// A service tagged titan that is not a Titan instance (another program
// registered it) is skipped on every read, and logged once, not on every
// read (a watch reads at least every second); one whose fault changes is
// logged again.
func TestMalformedServiceLoggedOnce(t *testing.T) {
	f := newFakeAgent(t)
	ctx := context.Background()
	var logs testsrv.LogBuffer
	r, err := consul.Open(ctx, f.url(), time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Register(ctx, instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	c, err := api.NewClient(&api.Config{Address: strings.TrimPrefix(f.url(), "http://")})
	if err != nil {
		t.Fatal(err)
	}
	register := func(addrs string) {
		t.Helper()
		reg := &api.AgentServiceRegistration{ID: "other", Name: "users", Tags: []string{"titan"},
			Meta:  map[string]string{"titan_id": "other", "titan_version": "1.0.0", "titan_health": "healthy", "titan_addrs": addrs},
			Check: &api.AgentServiceCheck{CheckID: "other-check", TTL: "1m"}}
		if err := c.Agent().ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
		if err := c.Agent().UpdateTTL("other-check", "", api.HealthPassing); err != nil {
			t.Fatal(err)
		}
	}
	read := func() {
		t.Helper()
		for range 5 {
			if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "good" {
				t.Fatalf("Discover = %q, %v; want good, the other program's service skipped", testsrv.IDs(got), err)
			}
		}
	}
	count := func() int { return strings.Count(logs.String(), "id=other ") }
	register("not json")
	read()
	if n := count(); n != 1 {
		t.Errorf("the malformed service was logged %d times in 5 reads, want once:\n%s", n, logs.String())
	}
	register(`["tcp://10.0.0.1:7070"]`) // a valid Titan meta, but not under the id Titan gives "other"
	read()
	if n := count(); n != 2 {
		t.Errorf("the service, malformed in another way, was logged %d times in all, want twice:\n%s", n, logs.String())
	}
}
