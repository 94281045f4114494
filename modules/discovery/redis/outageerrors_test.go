package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// With Redis gone, each call's error says it is Redis's and names the
// call and its instance or service (as the etcd and Consul backends'
// do), not only go-redis's "connection refused".
func TestOutageErrorsNameTheirInstanceOrService(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	srv := startRedis(t, port)
	r := open(t, fmt.Sprintf("redis://127.0.0.1:%d/0", port), "p", time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	srv.Process.Kill()
	srv.Wait()
	ctx := context.Background()
	other := testsrv.Instance("app2/users@1.0.0", "1.0.0")
	_, discoverErr := r.Discover(ctx, discovery.Query{Service: "users"})
	_, servicesErr := r.Services(ctx)
	_, healthErr := r.Health(ctx, in.ID)
	for _, c := range []struct {
		call string
		err  error
		want string
	}{
		{"Register", r.Register(ctx, other), "redis: Register of " + other.ID + ": "},
		{"Deregister", r.Deregister(ctx, in.ID), "redis: Deregister of " + in.ID + ": "},
		{"Discover", discoverErr, "redis: read p:discovery:service:users: "},
		{"Services", servicesErr, "redis: read the services of p:discovery:services: "},
		{"Health", healthErr, "redis: Health of " + in.ID + ": "},
	} {
		if c.err == nil {
			t.Errorf("%s with Redis stopped succeeded", c.call)
			continue
		}
		if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s with Redis stopped: %q; want it to say %q", c.call, c.err, c.want)
		}
	}
}
