package nats_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/titanframework/titan/modules/netron"
	natstransport "github.com/titanframework/titan/modules/netron/nats"
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

// permServer starts a NATS server with the users given, and returns its
// host:port.
func permServer(t *testing.T, users ...*server.User) string {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	return ns.Addr().String()
}

// An event subscription the NATS server denies the peer's user fails with
// permission_denied naming the subject, and again when asked again; the
// subscriptions the user may make go on. It used to succeed, and the
// subscriber never received an event.
func TestSubscribeDeniedPermission(t *testing.T) {
	t.Parallel()
	prefix := "t" + strings.ToLower(nuid.Next())
	denied := prefix + ".events.secret"
	host := permServer(t, &server.User{Username: "sub", Password: "pw", Permissions: &server.Permissions{
		Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{denied}},
	}})
	p := dial(t, "nats://sub:pw@"+host+"?prefix="+prefix, netron.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		unsub, err := p.Subscribe(ctx, "secret", func(context.Context, netron.Event) {})
		if err == nil {
			unsub()
		}
		if netron.CodeOf(err) != netron.CodePermissionDenied || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("%q", denied)) {
			t.Fatalf("a subscription the user may not make: %v, want permission_denied naming %q", err, denied)
		}
	}
	unsub, err := p.Subscribe(ctx, "open", func(context.Context, netron.Event) {})
	if err != nil {
		t.Fatalf("a subscription the user may make, after the refusals: %v", err)
	}
	unsub()
}

// A stream whose credit grants the NATS server denies the caller's user
// to publish fails at once with permission_denied naming the subject, and
// so does a call whose liveness probes it denies; the instance is told to
// stop either. The stream used to wait for items that could not come
// (until the instance's StreamIdleTimeout), and the call failed after
// 2.5 s with unavailable saying the instance stopped answering.
func TestControlDeniedPublishPermission(t *testing.T) {
	t.Parallel()
	prefix := "t" + strings.ToLower(nuid.Next())
	host := permServer(t,
		&server.User{Username: "serve", Password: "pw"},
		&server.User{Username: "nocredit", Password: "pw", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{prefix + ".inst.*.credit"}},
		}},
		&server.User{Username: "noping", Password: "pw", Permissions: &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{prefix + ".inst.*.ping"}},
		}},
	)
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	calc := newCalc()
	serveOnNATS(t, n, "nats://serve:pw@"+host+"?prefix="+prefix, "calculator", "1.0.0", calc)
	isDenied := func(err error, kind string) bool {
		return netron.CodeOf(err) == netron.CodePermissionDenied &&
			regexp.MustCompile(`"`+regexp.QuoteMeta(prefix)+`\.inst\.\w+\.`+kind+`"`).MatchString(fmt.Sprint(err))
	}

	p := dial(t, "nats://nocredit:pw@"+host+"?prefix="+prefix, netron.Config{StreamWindow: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	got := 0
	err = nil
	for _, e := range netron.CallStream[int](ctx, p, "calculator@1.0.0", "count", 100) {
		if e != nil {
			err = e
			break
		}
		got++
	}
	if took := time.Since(start); !isDenied(err, "credit") || took > 2*time.Second {
		t.Fatalf("a stream whose credits the caller may not send: %v after %d items and %v, want permission_denied naming the credit subject at once",
			err, got, took.Round(time.Millisecond))
	}
	select {
	case <-calc.canceled:
	case <-time.After(2 * time.Second):
		t.Fatal("the stream failed for the denied credits runs on at the instance")
	}

	p = dial(t, "nats://noping:pw@"+host+"?prefix="+prefix, netron.Config{})
	start = time.Now()
	_, err = p.Call(ctx, "calculator@1.0.0", "slow", 10*time.Second)
	if took := time.Since(start); !isDenied(err, "ping") || took > 2*time.Second {
		t.Fatalf("a call whose instance the caller may not probe: %v after %v, want permission_denied naming the ping subject at once",
			err, took.Round(time.Millisecond))
	}
	select {
	case <-calc.canceled:
	case <-time.After(2 * time.Second):
		t.Fatal("the call failed for the denied probe runs on at the instance")
	}
}

// A bridge whose subscription to the events the NATS server denies its
// connection's user fails to start with permission_denied naming the
// subject. It used to start, and never received another process's event.
func TestBridgeDeniedSubscribePermission(t *testing.T) {
	t.Parallel()
	prefix := "t" + strings.ToLower(nuid.Next())
	denied := prefix + ".events.>"
	host := permServer(t, &server.User{Username: "bridge", Password: "pw", Permissions: &server.Permissions{
		Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{denied}},
	}})
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect("nats://bridge:pw@"+host, nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	b, err := natstransport.NewBridge(n, nc, natstransport.WithPrefix(prefix))
	if err == nil {
		b.Close()
	}
	if netron.CodeOf(err) != netron.CodePermissionDenied || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("%q", denied)) {
		t.Fatalf("a bridge that may not subscribe to the events: %v, want permission_denied naming %q", err, denied)
	}
}

// Listening on NATS with a user the server does not let subscribe to a
// service's calls fails with permission_denied naming the subject. It used
// to succeed: the instance served nothing, and its callers were told that
// no instance of the service was serving.
func TestListenDeniedSubscribePermission(t *testing.T) {
	t.Parallel()
	prefix := "t" + strings.ToLower(nuid.Next())
	denied := prefix + ".rpc.calculator.1_0_0.*"
	host := permServer(t, &server.User{Username: "serve", Password: "pw", Permissions: &server.Permissions{
		Subscribe: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{denied}},
	}})
	n, err := netron.New(netron.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Stop(context.Background()) })
	if err := n.Register("calculator", "1.0.0", newCalc()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = n.Listen(ctx, "nats://serve:pw@"+host+"?prefix="+prefix)
	if netron.CodeOf(err) != netron.CodePermissionDenied || !strings.Contains(fmt.Sprint(err), fmt.Sprintf("%q", denied)) {
		t.Fatalf("listening with a user that may not subscribe to the calls: %v, want permission_denied naming %q", err, denied)
	}
}
