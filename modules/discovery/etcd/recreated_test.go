package etcd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A cluster recreated empty (or restored from an older snapshot) counts
// its revisions from below the one a watch had reached: the client
// resumes the watch at that revision, which the new cluster is far from,
// and the watch must still hear the instances registered in it.
func TestWatchFollowsARecreatedCluster(t *testing.T) {
	t.Parallel()
	if os.Getenv("TITAN_TEST_ETCD") != "" {
		t.Skip("recreates its own etcd server, which TITAN_TEST_ETCD cannot be")
	}
	client, peer := testsrv.FreePort(t), testsrv.FreePort(t)
	kill := testsrv.StartEtcd(t, client, peer, filepath.Join(t.TempDir(), "first"))
	url := fmt.Sprintf("etcd://127.0.0.1:%d", client)
	ctx := context.Background()
	r := open(t, url, 3*time.Second)
	// Revisions the new cluster will not reach soon.
	old := testsrv.Instance("old/users@1.0.0", "1.0.0")
	for i := range 50 {
		old.Metadata = map[string]string{"n": fmt.Sprint(i)}
		if err := r.Register(ctx, old); err != nil {
			t.Fatal(err)
		}
	}
	snaps := testsrv.WatchIDs(t, ctx, r, "users", "old/users@1.0.0")
	kill()
	testsrv.StartEtcd(t, client, peer, filepath.Join(t.TempDir(), "second"))
	// The old instance is not in the new cluster; a new one registers.
	deadline := time.After(15 * time.Second)
	for {
		err := r.Register(ctx, testsrv.Instance("new/users@1.0.0", "1.0.0"))
		if err == nil {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("Register in the new cluster: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != "new/users@1.0.0" {
		t.Fatalf("Discover in the new cluster = %q, %v", testsrv.IDs(got), err)
	}
	for {
		select {
		case s := <-snaps:
			if s == "new/users@1.0.0" {
				return
			}
			t.Logf("snapshot %q", s)
		case <-deadline:
			t.Fatal("the watch did not hear the instance registered in the recreated cluster")
		}
	}
}
