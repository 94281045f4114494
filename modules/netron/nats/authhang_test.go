package nats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
)

// An authenticator gets the Netron's TaskTimeout over NATS, as the
// engine's authenticate task and POST /netron/authenticate do: one that
// ignores its context on some credentials is answered deadline_exceeded
// naming netron.taskTimeout in about that time, and other callers'
// authentications are answered meanwhile. It used to hold the gateway's
// authenticate subscription until it returned: its caller waited for its
// own deadline, and every other caller's authenticate failed unanswered.
func TestAuthenticatorIgnoringItsContextOverNATS(t *testing.T) {
	t.Parallel()
	addr := testURL(t)
	n, err := netron.New(netron.Config{TaskTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	n.SetAuthenticator(func(_ context.Context, _ *netron.Peer, creds any) (any, error) {
		o, _ := creds.(protocol.Object)
		if tok, _ := o.Get("token"); tok == "hang" {
			<-release
		}
		return protocol.Object{{Key: "success", Value: true}}, nil
	})
	ctx := serveOnNATS(t, n, addr, "calculator", "1.0.0", newCalc())
	// Before the Netron stops: its gateway waits for the authenticator.
	t.Cleanup(func() { close(release) })
	authenticate := func(token string) (map[string]any, time.Duration, error) {
		p := dial(t, addr, netron.Config{})
		tctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		var res map[string]any
		err := p.Task(tctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: token}})
		return res, time.Since(start), err
	}
	_, took, err := authenticate("hang")
	if netron.CodeOf(err) != netron.CodeDeadlineExceeded || !strings.Contains(err.Error(), "netron.taskTimeout") || took > 2*time.Second {
		t.Fatalf("authenticate with an authenticator ignoring its context: %v after %v, want deadline_exceeded naming netron.taskTimeout within about 200ms",
			err, took.Round(time.Millisecond))
	}
	// The first authenticator still runs.
	if res, took, err := authenticate("fine"); err != nil || res["success"] != true {
		t.Fatalf("another caller's authenticate while an authenticator hangs = %v, %v after %v", res, err, took.Round(time.Millisecond))
	}
}
