package nats_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
)

// A call that gives up waiting for another of the registry's (the
// write-back after a reconnection, which holds the writes while the
// server does not answer; an opening of the bucket) says which call of
// which id waited, and for what, rather than a bare "context deadline
// exceeded"; the context's error is kept.
func TestLockWaitErrorSaysWhatItWaitedFor(t *testing.T) {
	t.Parallel()
	url := testsrv.NATS(t)
	r := open(t, url, prefix(t, url), time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, call string, err error, want ...string) {
		t.Helper()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s while the lock is held = %v; want context.DeadlineExceeded", call, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s while the lock is held: %q; want it to say %q", call, err, w)
			}
		}
	}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}

	release := r.HoldWrites()
	check(t, "Deregister", r.Deregister(short(), in.ID), "discovery/nats: Deregister of "+in.ID+": waiting for the registry's other writes", "write-back")
	check(t, "Register", r.Register(short(), in), "discovery/nats: Register of "+in.ID+": waiting for the registry's other writes")
	release()

	release = r.HoldBucket()
	_, err := r.Discover(short(), discovery.Query{Service: "users"})
	check(t, "Discover", err, "discovery/nats: open the bucket ", "_discovery: waiting for the registry's opening of its bucket")
	release()

	if got, err := r.Discover(context.Background(), discovery.Query{Service: "users"}); err != nil || testsrv.IDs(got) != in.ID {
		t.Errorf("Discover once the locks are free = %q, %v; want %s", testsrv.IDs(got), err, in.ID)
	}
}
