package nats_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// On a server whose max_payload is raised beyond discovery.MaxEntryBytes,
// an entry longer than the limit (written by someone else) is refused by
// the bucket the registry made, rather than downloaded by every reader on
// every read, only to be skipped.
func TestOversizeEntryIsNotDownloaded(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	testsrv.NATSServerConf(t, port, "max_payload: 8MB")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := open(t, url, "titan", time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	kv, err := jetStream(t, url).KeyValue(ctx, "titan_discovery")
	if err != nil {
		t.Fatal(err)
	}
	big := fmt.Sprintf(`{"id":"big","service":"users","version":"1.0.0","addrs":["tcp://10.0.0.1:1"],"health":"healthy","metadata":{"blob":%q}}`, strings.Repeat("y", 2*discovery.MaxEntryBytes))
	_, _ = kv.Put(ctx, "users."+base64.RawURLEncoding.EncodeToString([]byte("big")), []byte(big)) // refused, or stored
	before := r.InBytes()
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != in.ID {
		t.Fatalf("Discover = %q, %v; want %s", testsrv.IDs(got), err, in.ID)
	}
	if n := r.InBytes() - before; n > discovery.MaxEntryBytes {
		t.Errorf("Discover received %d bytes for an instance and an entry of %d bytes it skips; want under discovery.MaxEntryBytes (%d)", n, len(big), discovery.MaxEntryBytes)
	}
}
