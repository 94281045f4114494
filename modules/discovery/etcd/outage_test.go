package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// With the cluster out of reach, each call's error says it is etcd's and
// names the call and its instance or service, not only the client's
// "context deadline exceeded"; the context's error is kept.
func TestOutageErrorsNameTheirInstanceOrService(t *testing.T) {
	if os.Getenv("TITAN_TEST_ETCD") != "" {
		t.Skip("stops its own etcd server, which TITAN_TEST_ETCD cannot be")
	}
	t.Parallel()
	client, peer := testsrv.FreePort(t), testsrv.FreePort(t)
	kill := testsrv.StartEtcd(t, client, peer, t.TempDir())
	r := open(t, fmt.Sprintf("etcd://127.0.0.1:%d", client), time.Minute)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	kill()
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	other := testsrv.Instance("app2/users@1.0.0", "1.0.0")
	_, discoverErr := r.Discover(short(), discovery.Query{Service: "users"})
	_, servicesErr := r.Services(short())
	_, healthErr := r.Health(short(), in.ID)
	for _, c := range []struct {
		call string
		err  error
		want string
	}{
		{"Register", r.Register(short(), other), "etcd: Register of " + other.ID + ": "},
		{"Deregister", r.Deregister(short(), in.ID), "etcd: Deregister of " + in.ID + ": "},
		{"Deregister of an id registered elsewhere", r.Deregister(short(), "app3/users@1.0.0"), "etcd: Deregister of app3/users@1.0.0: "},
		{"Discover", discoverErr, "etcd: read /" + prefix(t) + "/discovery/instances/users/: "},
		{"Services", servicesErr, "etcd: list the services: read /" + prefix(t) + "/discovery/instances/: "},
		{"Health", healthErr, "etcd: Health of " + in.ID + ": "},
	} {
		if !errors.Is(c.err, context.DeadlineExceeded) {
			t.Errorf("%s with etcd stopped = %v; want context.DeadlineExceeded", c.call, c.err)
			continue
		}
		if !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s with etcd stopped: %q; want it to say %q", c.call, c.err, c.want)
		}
	}
}
