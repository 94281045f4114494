package nats_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
)

// Anyone subscribed to a call's subject may answer it with retries: a
// burst of them to one attempt of the call sends it again once, not once
// per retry. Each used to schedule a resend of its own, so that a forger
// made one call go out 7 times (every resend a run on some instance).
func TestForgedRetriesResendOnce(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	nc, prefix := rawNATS(t, addr)
	var seen atomic.Int64
	// Not an instance: it never acknowledges nor answers, and answers the
	// first copy of the call with a burst of retries.
	sub, err := nc.Subscribe(prefix+".rpc.calculator.1_0_0.add", func(m *nats.Msg) {
		if seen.Add(1) != 1 {
			return
		}
		for range 6 {
			r := nats.NewMsg(m.Reply)
			r.Header.Set(natstransport.HeaderInstance, "forger")
			r.Header.Set(natstransport.HeaderRetry, "draining")
			_ = nc.PublishMsg(r)
		}
		_ = nc.Flush()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	p := dial(t, addr+"&ackTimeout=1500ms", netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = p.Call(ctx, "calculator@1.0.0", "add", 1, 2)
	if netron.CodeOf(err) != netron.CodeUnavailable || !strings.Contains(err.Error(), "no instance acknowledged") {
		t.Fatalf("a call nobody acknowledges after forged retries: %v, want unavailable naming the missing acknowledgement", err)
	}
	// The call has ended: nothing sends it again. Let anything in flight
	// arrive before counting.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := seen.Load(); n != 2 {
		t.Fatalf("the call was sent %d times after 6 retries to its first attempt, want 2 (the first and one resend)", n)
	}
}
