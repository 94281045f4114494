package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
)

// A bucket deleted while the apps stay connected, and made again by a
// heartbeat (here another app's), is watched again: the watchers'
// consumers were on the deleted bucket's stream, and heard nothing of the
// new one.
func TestWatchSeesABucketMadeAgain(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, nil)
	other := open(t, url, p, time.Minute, nil)
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	snaps := testsrv.WatchIDs(t, ctx, r, "users", "app1/users@1.0.0")
	if err := jetStream(t, url).DeleteKeyValue(ctx, p+"_discovery"); err != nil {
		t.Fatal(err)
	}
	if err := other.Register(ctx, testsrv.Instance("app2/users@1.0.0", "1.0.0")); err != nil { // makes the bucket again
		t.Fatal(err)
	}
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil { // a heartbeat
		t.Fatal(err)
	}
	deadline := time.After(3 * time.Second)
	for {
		select {
		case s := <-snaps:
			if s == "app1/users@1.0.0,app2/users@1.0.0" {
				return
			}
		case <-deadline:
			t.Fatal("3 s after the bucket was made again and both instances were written in it, the watch had not seen them")
		}
	}
}

// A bucket deleted while the apps stay connected, and made again by the
// heartbeat of an app with a shorter ttl, gets its age limit raised to the
// ttl of the other apps (as when they reconnect), so that their entries do
// not age out between their heartbeats.
func TestABucketMadeAgainGetsTheAgeOfItsApps(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := prefix(t, url)
	r := open(t, url, p, time.Minute, nil)
	short := open(t, url, p, time.Second, nil)
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := jetStream(t, url).DeleteKeyValue(ctx, p+"_discovery"); err != nil {
		t.Fatal(err)
	}
	if err := short.Register(ctx, testsrv.Instance("app2/users@1.0.0", "1.0.0")); err != nil { // makes the bucket again, of age 1s
		t.Fatal(err)
	}
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil { // a heartbeat
		t.Fatal(err)
	}
	js := jetStream(t, url)
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var age time.Duration
		if kv, err := js.KeyValue(ctx, p+"_discovery"); err == nil {
			if st, err := kv.Status(ctx); err == nil {
				age = st.TTL()
			}
		}
		if age == time.Minute {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 s after an app of ttl 1s made the bucket again, its age limit is %v; want 1m, the ttl of the app still registered", age)
		}
	}
}
