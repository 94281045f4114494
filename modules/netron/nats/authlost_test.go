package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// An authenticate task that an instance acknowledged (its authenticator
// runs longer than 100 ms) and that instance then dies fails with
// unavailable within about a second, as a call does: the caller probes
// the instance. It used to wait for its whole deadline, since only calls
// were probed.
func TestAuthenticateOfALostInstanceFailsFast(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	nc, prefix := rawNATS(t, addr)
	// An instance that acknowledges the task, then is gone: nothing
	// answers on its control subject.
	sub, err := nc.Subscribe(prefix+".authenticate", func(m *nats.Msg) {
		ack := nats.NewMsg(m.Reply)
		ack.Header.Set(natstransport.HeaderInstance, "gone")
		ack.Header.Set(natstransport.HeaderAck, "1")
		_ = nc.PublishMsg(ack)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	p := dial(t, addr, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	var res map[string]any
	err = p.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: "t"}})
	if netron.CodeOf(err) != netron.CodeUnavailable {
		t.Fatalf("authenticate acknowledged by an instance that is gone: %v after %v, want unavailable", err, time.Since(start).Round(time.Millisecond))
	}
}
