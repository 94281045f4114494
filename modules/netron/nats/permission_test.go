package nats_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nuid"

	"github.com/titanframework/titan/modules/netron"
)

// A call whose subject the NATS server denies the caller's user to publish
// to fails at once with permission_denied naming the subject, and so does
// a resolve; the calls the user may publish go on. It used to fail only
// after the ackTimeout (5 s here), with unavailable saying that no
// instance acknowledged it, though none could have received it.
func TestCallDeniedPublishPermission(t *testing.T) {
	t.Parallel()
	prefix := "t" + strings.ToLower(nuid.Next())
	denied := prefix + ".rpc.calculator.1_0_0.add"
	deniedResolve := prefix + ".resolve.hidden"
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "serve", Password: "pw"},
			{Username: "call", Password: "pw", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{denied, deniedResolve}},
			}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	host := ns.Addr().String()
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := serveOnNATS(t, n, "nats://serve:pw@"+host+"?prefix="+prefix, "calculator", "1.0.0", newCalc())
	p := dial(t, "nats://call:pw@"+host+"?prefix="+prefix+"&ackTimeout=5s", netron.Config{})
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	start := time.Now()
	_, err = p.Call(cctx, "calculator@1.0.0", "add", 1, 2)
	took := time.Since(start)
	if netron.CodeOf(err) != netron.CodePermissionDenied || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("%q", denied)) || took > 2*time.Second {
		t.Fatalf("a call the caller may not publish: %v after %v, want permission_denied naming %q at once", err, took.Round(time.Millisecond), denied)
	}
	start = time.Now()
	_, err = p.Definition(cctx, "hidden@^1")
	took = time.Since(start)
	if netron.CodeOf(err) != netron.CodePermissionDenied || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("%q", deniedResolve)) || took > 2*time.Second {
		t.Fatalf("a resolve the caller may not publish: %v after %v, want permission_denied naming %q at once", err, took.Round(time.Millisecond), deniedResolve)
	}
	if got, err := netron.CallUnary[int](cctx, p, "calculator@1.0.0", "work", 1); err != nil || got != 1 {
		t.Fatalf("a call the caller may publish, after the refusals: %v %v, want 1", got, err)
	}
}
