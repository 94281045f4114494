package nats_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// The entries a reconnection writes again are those registered when each
// is written, not when the write-back began: an instance deregistered
// meanwhile is not written back (it stayed registered until the bucket's
// age limit), and one moved to another service meanwhile is not written
// again under the service it left.
func TestWriteBackAfterReconnectionKeepsWhatChangedMeanwhile(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	stopServer := testsrv.NATSServerAt(t, port, "")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rlog, back := logged("registered again after reconnecting")
	r := open(t, url, "titan", time.Minute, rlog)
	gone, moved := testsrv.Instance("app1/users@1.0.0", "1.0.0"), testsrv.Instance("app2/users@1.0.0", "1.0.0")
	if err := r.Register(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if err := r.Register(ctx, moved); err != nil {
		t.Fatal(err)
	}
	movedTo := moved
	movedTo.Service = "accounts"
	changed := make(chan error, 1)
	r.SetAfterCollect(func() {
		changed <- errors.Join(r.Deregister(ctx, gone.ID), r.Register(ctx, movedTo))
	})
	stopServer()
	testsrv.NATSServerAt(t, port, "") // a new, empty store
	select {
	case err := <-changed:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("the registry did not write its entries again within 10 s of the restart")
	}
	select {
	case <-back:
	case <-ctx.Done():
		t.Fatal("the registry did not log that it registered again")
	}
	want := "accounts." + base64.RawURLEncoding.EncodeToString([]byte(moved.ID))
	if keys := bucketKeys(t, url, "titan"); strings.Join(keys, ",") != want {
		t.Errorf("after a Deregister and a move during the write-back, the bucket holds %v; want only %s", keys, want)
	}
}
