package nats_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/discovery"
	dnats "github.com/titanframework/titan/modules/discovery/nats"
)

// A heartbeat cancelled while the NATS server does not answer (an app
// stopping) ends at once: the write that found no answer does not go on
// looking the bucket up on a budget of its own, which would hold the stop
// for that budget.
func TestCancelledRegisterEndsAtOnce(t *testing.T) {
	t.Parallel()
	r, in := registeredThenSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Register(ctx, in) }()
	cancel() // before the write, or while it waits: nothing answers it
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Register cancelled: %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Register went on for over a second after its context was cancelled")
	}
}

// registeredThenSilent returns a registry that has registered the
// instance it returns through a relay to the NATS server, which then
// carries nothing more either way: a server that stopped answering.
func registeredThenSilent(t *testing.T) (*dnats.Registry, discovery.Instance) {
	t.Helper()
	u, err := url.Parse(testsrv.NATS(t))
	if err != nil {
		t.Fatal(err)
	}
	hole := testsrv.RelayTo(t, u.Host)
	r := open(t, "nats://"+hole.Addr(), prefix(t, u.String()), time.Minute, nil)
	in := testsrv.Instance("app1/users@1.0.0", "1.0.0")
	if err := r.Register(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	hole.Swallow()
	return r, in
}
