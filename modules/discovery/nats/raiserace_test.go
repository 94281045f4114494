package nats_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// Two apps that raise the bucket's age limit at once both read it before
// either writes it: the one that writes last, with the shorter ttl, does
// not leave the limit below the other's ttl, whose entries would age out
// between its heartbeats.
func TestRaisesAtOnceKeepTheLongestTTL(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := prefix(t, url)
	r := open(t, url, p, 2*time.Second, nil)
	short := open(t, url, p, time.Second, nil)
	if err := r.Register(ctx, testsrv.Instance("app1/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	raised := make(chan struct{})
	r.SetBeforeRaise(func() {
		once.Do(func() {
			defer close(raised)
			// While r is between reading the limit and writing it,
			// another app, of ttl 1m, opens the bucket (raising its
			// limit to 1m) and registers.
			other, err := dnats.Open(ctx, url, p, time.Minute, nil)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { other.Close() })
			if err := other.Register(ctx, testsrv.Instance("app3/users@1.0.0", "1.0.0")); err != nil {
				t.Error(err)
			}
		})
	})
	if err := jetStream(t, url).DeleteKeyValue(ctx, p+"_discovery"); err != nil {
		t.Fatal(err)
	}
	// The app of ttl 1s makes the bucket again, of age 1s: r raises it.
	if err := short.Register(ctx, testsrv.Instance("app2/users@1.0.0", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-raised:
	case <-ctx.Done():
		t.Fatal("the app of ttl 2s did not raise the age limit of the bucket made again")
	}
	var age time.Duration
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if age = bucketAge(t, url, p); age == time.Minute {
			return
		}
	}
	t.Fatalf("5 s after two apps raised the age limit at once, to 2s and 1m, it is %v; want 1m", age)
}
