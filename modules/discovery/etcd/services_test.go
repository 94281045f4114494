package etcd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/titanframework/titan/internal/testsrv"
)

// Services lists the services with a valid instance, as Discover reads
// them: a key someone else wrote under the registry's root that is not an
// instance (not JSON, or an instance of another key) names no service.
func TestServicesSkipsWhatIsNotAnInstance(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := open(t, url, time.Minute)
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + strings.TrimPrefix(url, "etcd://")}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := "/" + prefix(t) + "/discovery/instances/"
	if _, err := c.Put(ctx, root+"junk/x", "not an instance"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, root+"stray", "{}"); err != nil {
		t.Fatal(err)
	}
	if names, err := r.Services(ctx); err != nil || strings.Join(names, ",") != "users" {
		t.Errorf("Services = %v, %v; want users only", names, err)
	}
}
