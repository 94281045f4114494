package nats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A bucket that is gone (the server restarted without its store, and no
// heartbeat made it again yet) holds no instance: reading it finds none,
// and deregistering from it succeeds, as with an unknown id, rather than
// failing with "nats: stream not found".
func TestAGoneBucketHoldsNoInstance(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, nil)
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := jetStream(t, url).DeleteKeyValue(ctx, p+"_discovery"); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Discover(ctx, discovery.Query{Service: "users"}); err != nil || len(got) != 0 {
		t.Errorf("Discover with the bucket gone = %q, %v; want none, no error", testsrv.IDs(got), err)
	}
	if got, err := r.Services(ctx); err != nil || len(got) != 0 {
		t.Errorf("Services with the bucket gone = %v, %v; want none, no error", got, err)
	}
	if _, err := r.Health(ctx, "app1/users@1.0.0"); !errors.Is(err, discovery.ErrNotFound) {
		t.Errorf("Health with the bucket gone: %v; want discovery.ErrNotFound", err)
	}
	if err := r.Deregister(ctx, "app1/users@1.0.0"); err != nil {
		t.Errorf("Deregister with the bucket gone: %v; want no error", err)
	}
}
