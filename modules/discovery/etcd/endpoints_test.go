package etcd_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	"github.com/titanframework/titan/modules/discovery/etcd"
)

// discovery.url lists several endpoints so that the registry opens while
// one member of the cluster is down: a first endpoint that does not
// answer does not fail the open when another does.
func TestOpenWithTheFirstEndpointDown(t *testing.T) {
	t.Parallel()
	live := strings.TrimPrefix(testsrv.Etcd(t), "etcd://")
	url := fmt.Sprintf("etcd://127.0.0.1:%d,%s", testsrv.FreePort(t), live)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := etcd.Open(ctx, url, prefix(t), time.Minute, nil)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	defer r.Close()
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 1 {
		t.Fatalf("Discover = %s, %v", testsrv.IDs(got), err)
	}
}
