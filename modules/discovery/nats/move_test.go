package nats_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// bucketKeys lists the keys of the bucket of prefix p (deleted ones
// left out), sorted.
func bucketKeys(t *testing.T, url, p string) []string {
	t.Helper()
	js := jetStream(t, url)
	kv, err := js.KeyValue(context.Background(), p+"_discovery")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(context.Background())
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// An instance registered again under another service (the same id, the
// service renamed) leaves the first: it is listed under the new service
// only, its key under the first is gone from the bucket, and Watch of the
// old one hears it go. So it is when the same registry moves it, and when
// a new one does (the process restarted with the service renamed: the
// entry its predecessor left is still live).
func TestReRegisterUnderAnotherService(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	for _, tc := range []struct {
		name      string
		restarted bool
	}{
		{"the same registry", false},
		{"a registry that restarted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p := prefix(t, url)
			r := open(t, url, p, time.Minute, nil)
			in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
			if err := r.Register(ctx, in); err != nil {
				t.Fatal(err)
			}
			snaps := testsrv.WatchIDs(t, ctx, r, "users", in.ID)

			mover := r
			if tc.restarted {
				mover = open(t, url, p, time.Minute, nil)
			}
			in.Service = "accounts"
			if err := mover.Register(ctx, in); err != nil {
				t.Fatal(err)
			}
			testsrv.CheckMoved(t, ctx, r, in, "users")
			want := "accounts." + base64.RawURLEncoding.EncodeToString([]byte(in.ID))
			if keys := bucketKeys(t, url, p); strings.Join(keys, ",") != want {
				t.Errorf("the bucket holds %v; want only %s", keys, want)
			}
			testsrv.CheckLeft(t, snaps, "users")
			if err := mover.Register(ctx, in); err != nil { // a heartbeat
				t.Fatal(err)
			}
			if h, err := r.Health(ctx, in.ID); err != nil || h != discovery.Healthy {
				t.Errorf("Health = %q, %v; want healthy", h, err)
			}
			if err := r.Deregister(ctx, in.ID); err != nil {
				t.Fatal(err)
			}
			if names, err := r.Services(ctx); err != nil || len(names) != 0 {
				t.Errorf("Services after Deregister = %v, %v; want none", names, err)
			}
			if h, err := r.Health(ctx, in.ID); !errors.Is(err, discovery.ErrNotFound) {
				t.Errorf("Health after Deregister = %q, %v; want ErrNotFound", h, err)
			}
		})
	}
}

// Two live processes that register one id under two services (a
// misconfiguration) do not fight over it: the second's first
// registration removes the first's entry, which the first's next
// heartbeat writes again, and from then on each heartbeat leaves the
// other's entry alone; no Register fails.
func TestTwoProcessesRegisterOneIDUnderTwoServices(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := prefix(t, url)
	a, b := open(t, url, p, time.Minute, nil), open(t, url, p, time.Minute, nil)
	inA := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	inB := inA
	inB.Service = "accounts"
	listed := func(when string, want string) {
		t.Helper()
		if names, err := a.Services(ctx); err != nil || strings.Join(names, ",") != want {
			t.Errorf("%s: Services = %v, %v; want [%s]", when, names, err, want)
		}
	}
	if err := a.Register(ctx, inA); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(ctx, inB); err != nil {
		t.Fatal(err)
	}
	listed("after the second process's first registration", "accounts")
	for i := range 3 {
		if err := a.Register(ctx, inA); err != nil {
			t.Fatal(err)
		}
		if err := b.Register(ctx, inB); err != nil {
			t.Fatal(err)
		}
		listed(fmt.Sprintf("after heartbeat %d of each", i+1), "accounts,users")
	}
}

// An instance moved to another service is written again under that
// service only when the connection comes back to a server that lost its
// store: the registry does not bring back the entry it moved away from.
func TestMovedInstanceAfterReconnection(t *testing.T) {
	t.Parallel()
	port := testsrv.FreePort(t)
	stopServer := testsrv.NATSServerAt(t, port, "")
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	ctx := context.Background()
	r := open(t, url, "titan", time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Service = "accounts"
	if err := r.Register(ctx, in); err != nil {
		t.Fatal(err)
	}
	stopServer()
	testsrv.NATSServerAt(t, port, "") // a new, empty store
	reader, err := dnats.Open(ctx, url, "titan", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got, _ := reader.Discover(ctx, discovery.Query{Service: "accounts"}); len(got) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instance was not registered again within 5 s of the restart")
		}
	}
	if names, err := reader.Services(ctx); err != nil || strings.Join(names, ",") != "accounts" {
		t.Errorf("Services after the reconnection = %v, %v; want [accounts]", names, err)
	}
}
