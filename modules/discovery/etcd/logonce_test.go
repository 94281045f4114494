package etcd_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery/etcd"
)

// A malformed entry someone else wrote is skipped on every read, and
// logged once, not on every read (each Discover, Services and Health, a
// watch each time it reads the service again): a value that is not an
// instance, an instance under another key than its own. One that is fixed
// and broken again is logged again.
func TestMalformedEntryLoggedOnce(t *testing.T) {
	t.Parallel()
	url := testsrv.Etcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var logs testsrv.LogBuffer
	r, err := etcd.Open(ctx, url, prefix(t), time.Minute, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Register(ctx, testsrv.Instance("good", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + strings.TrimPrefix(url, "etcd://")}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := "/" + prefix(t) + "/discovery/instances/"
	put := func(k, v string) {
		t.Helper()
		if _, err := c.Put(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	junk, other := root+"users/junk", root+"users/other"
	testsrv.MalformedEntriesLoggedOnce(t, ctx, r, &logs, put, junk, other)
}
