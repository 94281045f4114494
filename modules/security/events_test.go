package security_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security"
)

// eventRules are the security.events of the tests: the audit events need
// the role auditor, every other order event the role admin (which lead
// inherits) and the permission orders:read, and the metrics events any
// authenticated caller. The first rule that matches decides, so an admin
// may not read the audit events and an auditor may.
const eventRules = `security.events=[` +
	`{"topic":"orders.audit.>","roles":["auditor"]},` +
	`{"topic":"orders.>","roles":["admin"],"permissions":["orders:read"]},` +
	`{"topic":"metrics.*"}]`

// eventsApp starts an app with the rules of eventRules on a tcp://
// listener; the role admin grants orders:*, and lead inherits admin.
func eventsApp(t *testing.T, s *signer, sets ...string) (string, *netron.Netron) {
	t.Helper()
	addrs, n := secureApp(t, s, newPKI(t, "server"), []string{"tcp://127.0.0.1:0"}, append([]string{
		eventRules,
		`security.rbac.roles={"admin":{"permissions":["orders:*"]},"lead":{"inherits":["admin"]}}`,
	}, sets...)...)
	return addrs["tcp"], n
}

// subscriber dials addr, authenticates with token unless it is empty,
// and returns the peer and the events it receives.
func subscriber(t *testing.T, addr, token string) (*netron.Peer, chan netron.Event) {
	t.Helper()
	p := dialAll(t, addr)[0]
	if token != "" {
		if res := authenticate(t, p, token); res["success"] != true {
			t.Fatalf("authenticate: %v", res)
		}
	}
	return p, make(chan netron.Event, 16)
}

func queue(ch chan netron.Event) netron.EventHandler {
	return func(_ context.Context, e netron.Event) {
		select {
		case ch <- e:
		default:
		}
	}
}

// receive waits for the next event on ch and checks its topic.
func receive(t *testing.T, ch chan netron.Event, topic string) {
	t.Helper()
	select {
	case e := <-ch:
		if e.Topic != topic {
			t.Fatalf("got an event of %q, want %q", e.Topic, topic)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no event of %q arrived", topic)
	}
}

// refused checks that err is a refusal with code whose message names
// every one of want and not the token.
func refused(t *testing.T, err error, code netron.Code, token string, want ...string) {
	t.Helper()
	if netron.CodeOf(err) != code {
		t.Fatalf("subscribe: %v, want %v", err, code)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal %q does not name %s", err, w)
		}
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("the refusal %q holds the token", err)
	}
}

// An admin subscribes to a protected event and receives it; a caller
// without the role is refused with permission_denied naming the event,
// the rule and the role, and its connection goes on serving it; an
// anonymous one is refused with unauthenticated; an event no rule covers
// stays open to all.
func TestEventRulesOverTCP(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr, n := eventsApp(t, s)
	ctx := context.Background()

	admin, adminGot := subscriber(t, addr, s.token(t, claims("alice", []string{"admin"}, nil)))
	if _, err := admin.Subscribe(ctx, "orders.created", queue(adminGot)); err != nil {
		t.Fatalf("the admin subscribing to orders.created: %v", err)
	}

	userToken := s.token(t, claims("bob", []string{"reader"}, nil))
	user, userGot := subscriber(t, addr, userToken)
	_, err := user.Subscribe(ctx, "orders.created", queue(userGot))
	refused(t, err, netron.CodePermissionDenied, userToken,
		`"orders.created"`, "security.events[1]", `"orders.>"`, "one of the roles admin", "bob")
	r, err := user.Call(ctx, "vault@1.0.0", "ping")
	if err != nil {
		t.Fatalf("the refused connection calling ping: %v", err)
	}
	var pong string
	if err := r.Decode(&pong); err != nil || pong != "pong" {
		t.Fatalf("ping answered %q (%v)", pong, err)
	}
	if _, err := user.Subscribe(ctx, "metrics.cpu", queue(userGot)); err != nil {
		t.Fatalf("an authenticated caller subscribing to metrics.cpu (a rule without roles): %v", err)
	}

	anon, anonGot := subscriber(t, addr, "")
	_, err = anon.Subscribe(ctx, "orders.created", queue(anonGot))
	refused(t, err, netron.CodeUnauthenticated, "", `"orders.created"`, "security.events[1]", `"orders.>"`)
	_, err = anon.Subscribe(ctx, "metrics.cpu", queue(anonGot))
	refused(t, err, netron.CodeUnauthenticated, "", `"metrics.cpu"`, "security.events[2]", `"metrics.*"`)
	if _, err := anon.Subscribe(ctx, "chat.message", queue(anonGot)); err != nil {
		t.Fatalf("an anonymous caller subscribing to chat.message, which no rule covers: %v", err)
	}

	for _, topic := range []string{"orders.created", "metrics.cpu", "chat.message"} {
		if err := n.Emit(ctx, topic, "x"); err != nil {
			t.Fatal(err)
		}
	}
	// A peer's events arrive in the order emitted: had a refused
	// subscription been made, orders.created would come first.
	receive(t, adminGot, "orders.created")
	receive(t, userGot, "metrics.cpu")
	receive(t, anonGot, "chat.message")
}

// The first rule whose topic matches decides, even when a later one would
// decide otherwise: an admin may subscribe to orders.created but not to
// orders.audit.deleted (the auditor rule comes first), and an auditor the
// other way round. Roles are checked with their inheritance, permissions
// as for methods.
func TestEventRulesFirstMatchDecides(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr, _ := eventsApp(t, s)
	ctx := context.Background()
	h := func(context.Context, netron.Event) {}

	adminToken := s.token(t, claims("alice", []string{"admin"}, nil))
	admin, _ := subscriber(t, addr, adminToken)
	_, err := admin.Subscribe(ctx, "orders.audit.deleted", h)
	refused(t, err, netron.CodePermissionDenied, adminToken,
		`"orders.audit.deleted"`, "security.events[0]", `"orders.audit.>"`, "one of the roles auditor")

	auditorToken := s.token(t, claims("carol", []string{"auditor"}, nil))
	auditor, _ := subscriber(t, addr, auditorToken)
	if _, err := auditor.Subscribe(ctx, "orders.audit.deleted", h); err != nil {
		t.Fatalf("the auditor subscribing to orders.audit.deleted: %v", err)
	}
	_, err = auditor.Subscribe(ctx, "orders.created", h)
	refused(t, err, netron.CodePermissionDenied, auditorToken, "security.events[1]", "one of the roles admin")

	// lead inherits admin, and with it orders:*.
	lead, _ := subscriber(t, addr, s.token(t, claims("dave", []string{"lead"}, nil)))
	if _, err := lead.Subscribe(ctx, "orders.created", h); err != nil {
		t.Fatalf("lead (inheriting admin) subscribing to orders.created: %v", err)
	}
}

// A rule's permissions are all needed, as titan.Permissions are: granted
// by the token or by its roles, with wildcards on the granted side.
func TestEventRulesPermissions(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addrs, _ := secureApp(t, s, newPKI(t, "server"), []string{"tcp://127.0.0.1:0"},
		`security.events=[{"topic":"billing.*","permissions":["billing:read","billing:watch"]}]`,
		`security.rbac.roles={"clerk":{"permissions":["billing:read"]}}`)
	ctx := context.Background()
	h := func(context.Context, netron.Event) {}

	clerkToken := s.token(t, claims("erin", []string{"clerk"}, nil))
	clerk, _ := subscriber(t, addrs["tcp"], clerkToken)
	_, err := clerk.Subscribe(ctx, "billing.paid", h)
	refused(t, err, netron.CodePermissionDenied, clerkToken, `"billing.paid"`, "security.events[0]", "the permission billing:watch")

	watcher, _ := subscriber(t, addrs["tcp"], s.token(t, claims("frank", []string{"clerk"}, func(c jwt.MapClaims) {
		c["permissions"] = []any{"billing:wat*", "billing:*"}
	})))
	if _, err := watcher.Subscribe(ctx, "billing.paid", h); err != nil {
		t.Fatalf("a caller with billing:read (its role) and billing:* (its token): %v", err)
	}
}

// With security.auth.required, the events no rule covers still need an
// authenticated connection, as before the rules.
func TestEventRulesUnmatchedKeepAuthRequired(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr, _ := eventsApp(t, s, "security.auth.required=true", "security.auth.timeout=1m")
	ctx := context.Background()
	h := func(context.Context, netron.Event) {}
	anon, _ := subscriber(t, addr, "")
	_, err := anon.Subscribe(ctx, "chat.message", h)
	refused(t, err, netron.CodeUnauthenticated, "", "security.auth.required")
	_, err = anon.Subscribe(ctx, "orders.created", h)
	refused(t, err, netron.CodeUnauthenticated, "", "security.events[1]")
}

// Invalid rules fail start-up naming their key.
func TestEventRulesValidated(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rules, key string
	}{
		{`[{"topic":""}]`, "security.events[0].topic"},
		{`[{"topic":"chat.*"},{"topic":"orders..created"}]`, "security.events[1].topic"},
		{`[{"topic":"orders.>.created"}]`, "security.events[0].topic"},
		{`[{"topic":">.orders"}]`, "security.events[0].topic"},
		{`[{"topic":"orders*"}]`, "security.events[0].topic"},
		{`[{"topic":"orders.>","roles":["admin",""]}]`, "security.events[0].roles"},
		{`[{"topic":"orders.>","permissions":[" "]}]`, "security.events[0].permissions"},
	} {
		app := titan.New(titan.WithConfig(config.Options{Sets: []string{
			"logger.level=error", "netron.listen=tcp://127.0.0.1:0", "security.events=" + c.rules,
		}, Environ: []string{}, NoWatch: true}), vaultService())
		err := app.Start(context.Background())
		if err == nil {
			_ = app.Stop(context.Background())
			t.Errorf("%s: the app started", c.rules)
			continue
		}
		if !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v, want an error naming %s", c.rules, err, c.key)
		}
	}
}

// Config.Validate names the key of the invalid rule; a role RBAC does not
// list is accepted, as in titan.Roles (tokens may grant it).
func TestEventRulesConfigValidate(t *testing.T) {
	t.Parallel()
	cfg := security.DefaultConfig()
	cfg.Events = []security.EventRule{{Topic: "orders.>", Roles: []string{"nobody-lists-it"}}}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a role RBAC does not list: %v", err)
	}
	cfg.Events = append(cfg.Events, security.EventRule{Topic: "orders.*.>.x"})
	err := cfg.Validate()
	if err == nil || !strings.HasPrefix(err.Error(), "security.events[1].topic: ") || !strings.Contains(err.Error(), "'>' must be the last token") {
		t.Fatalf("Validate: %v, want security.events[1].topic saying '>' must be last", err)
	}
	if g, err := security.New(context.Background(), cfg, security.Options{}); err == nil {
		g.Close()
		t.Fatal("New accepted an invalid rule")
	}
}

// MaySubscribe decides for the caller of a request (an identity in the
// context, as Identify gives it) as for a connection's, so that a door
// serving events to requests can ask it; credentials that expired are
// refused as they are for calls.
func TestMaySubscribeRequestCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := security.DefaultConfig()
	cfg.Auth.Required = true
	cfg.Events = []security.EventRule{{Topic: "orders.>", Roles: []string{"admin"}}}
	g, err := security.New(ctx, cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	admin := security.WithIdentity(ctx, &security.Identity{Subject: "alice", Roles: []string{"admin"}})
	reader := security.WithIdentity(ctx, &security.Identity{Subject: "bob", Roles: []string{"reader"}})
	expired := security.WithIdentity(ctx, &security.Identity{Subject: "alice", Roles: []string{"admin"}, ExpiresAt: time.Now().Add(-time.Hour)})
	for _, c := range []struct {
		name  string
		ctx   context.Context
		topic string
		code  netron.Code
	}{
		{"admin, protected", admin, "orders.created", codeOK},
		{"reader, protected", reader, "orders.created", netron.CodePermissionDenied},
		{"reader, unmatched", reader, "chat.message", codeOK},
		{"anonymous, unmatched", ctx, "chat.message", netron.CodeUnauthenticated},
		{"anonymous, protected", ctx, "orders.created", netron.CodeUnauthenticated},
		{"expired admin, protected", expired, "orders.created", netron.CodeUnauthenticated},
		{"expired admin, unmatched", expired, "chat.message", netron.CodeUnauthenticated},
	} {
		if code := codeOf(g.MaySubscribe(c.ctx, c.topic)); code != c.code {
			t.Errorf("%s: %v, want %v", c.name, g.MaySubscribe(c.ctx, c.topic), c.code)
		}
	}
}

// The rules hold on every stream transport: each serves the subscribe
// task the same way.
func TestEventRulesOnEveryStreamTransport(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, n := secureApp(t, s, p, []string{
		"tcp://127.0.0.1:0", "tls://127.0.0.1:0", "unix://" + filepath.Join(t.TempDir(), "events.sock"),
		"ws://127.0.0.1:0", "wss://127.0.0.1:0",
	}, eventRules)
	ctx := context.Background()
	adminToken, userToken := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["permissions"] = []any{"orders:read"}
	})), s.token(t, claims("bob", []string{"reader"}, nil))
	for scheme, addr := range addrs {
		t.Run(scheme, func(t *testing.T) {
			admin, user := dialAnonymous(t, p, addr), dialAnonymous(t, p, addr)
			for peer, token := range map[*netron.Peer]string{admin: adminToken, user: userToken} {
				if res := authenticate(t, peer, token); res["success"] != true {
					t.Fatalf("authenticate: %v", res)
				}
			}
			_, err := user.Subscribe(ctx, "orders.created", func(context.Context, netron.Event) {})
			refused(t, err, netron.CodePermissionDenied, userToken, "security.events[1]")
			got := make(chan netron.Event, 16)
			topic := "orders." + scheme
			if _, err := admin.Subscribe(ctx, topic, queue(got)); err != nil {
				t.Fatalf("the admin subscribing: %v", err)
			}
			if err := n.Emit(ctx, topic, "x"); err != nil {
				t.Fatal(err)
			}
			receive(t, got, topic)
		})
	}
}

// Refused subscriptions are logged by rule, not by event name: a caller
// trying many names under one rule makes one line, which names the rule.
func TestEventRefusalsLoggedByRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var out testsrv.LogBuffer
	cfg := security.DefaultConfig()
	cfg.Events = []security.EventRule{{Topic: "orders.>", Roles: []string{"admin"}}}
	g, err := security.New(ctx, cfg, security.Options{Log: slog.New(slog.NewTextHandler(&out, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	reader := security.WithIdentity(ctx, &security.Identity{Subject: "bob", Roles: []string{"reader"}})
	for i := range 50 {
		if err := g.MaySubscribe(reader, fmt.Sprintf("orders.n%d", i)); netron.CodeOf(err) != netron.CodePermissionDenied {
			t.Fatalf("orders.n%d: %v, want permission_denied", i, err)
		}
	}
	logged := out.String()
	if n := strings.Count(logged, "msg=refused "); n != 1 || !strings.Contains(logged, "security.events[0]") || strings.Contains(logged, "orders.n") {
		t.Fatalf("%d lines for 50 refusals under one rule, want 1 naming security.events[0] and no event name:\n%s", n, logged)
	}
}

// The rules are asked again before each event is sent: a connection that
// subscribed as an admin and then authenticated again as a caller without
// the role is no longer sent the protected events (its subscription
// stays, and serves it again once it may); events no rule covers go on.
func TestEventRulesCheckedForEveryEvent(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr, n := eventsApp(t, s)
	ctx := context.Background()
	p, got := subscriber(t, addr, s.token(t, claims("alice", []string{"admin"}, nil)))
	for _, topic := range []string{"orders.created", "chat.message"} {
		if _, err := p.Subscribe(ctx, topic, queue(got)); err != nil {
			t.Fatalf("the admin subscribing to %s: %v", topic, err)
		}
	}
	emit := func(topics ...string) {
		t.Helper()
		for _, topic := range topics {
			if err := n.Emit(ctx, topic, topic); err != nil {
				t.Fatal(err)
			}
		}
	}
	emit("orders.created")
	receive(t, got, "orders.created")

	if res := authenticate(t, p, s.token(t, claims("alice", []string{"reader"}, nil))); res["success"] != true {
		t.Fatalf("authenticating again: %v", res)
	}
	emit("orders.created", "chat.message")
	receive(t, got, "chat.message") // events of one connection keep their order

	if res := authenticate(t, p, s.token(t, claims("alice", []string{"admin"}, nil))); res["success"] != true {
		t.Fatalf("authenticating again: %v", res)
	}
	emit("orders.created")
	receive(t, got, "orders.created")
}

// With security.auth.required, a connection whose credentials expired is
// no longer sent the events no rule covers, as it is refused its calls;
// authenticating again serves it again.
func TestExpiredConnectionNotSentEvents(t *testing.T) {
	t.Parallel()
	s := newSigner(t)
	addr, n := eventsApp(t, s, "security.auth.required=true", "security.jwt.leeway=1ms")
	ctx := context.Background()
	exp := time.Now().Add(2 * time.Second).Unix()
	p, got := subscriber(t, addr, s.token(t, claims("alice", nil, func(c jwt.MapClaims) { c["exp"] = exp })))
	for _, topic := range []string{"chat.before", "chat.expired", "chat.after"} {
		if _, err := p.Subscribe(ctx, topic, queue(got)); err != nil {
			t.Fatalf("subscribing to %s: %v", topic, err)
		}
	}
	if err := n.Emit(ctx, "chat.before", "x"); err != nil {
		t.Fatal(err)
	}
	receive(t, got, "chat.before")
	time.Sleep(time.Until(time.Unix(exp, 0).Add(100 * time.Millisecond)))
	if err := n.Emit(ctx, "chat.expired", "x"); err != nil { // decided as it is emitted
		t.Fatal(err)
	}
	if res := authenticate(t, p, s.token(t, claims("alice", nil, nil))); res["success"] != true {
		t.Fatalf("authenticating again: %v", res)
	}
	if err := n.Emit(ctx, "chat.after", "x"); err != nil {
		t.Fatal(err)
	}
	receive(t, got, "chat.after") // events of one connection keep their order
}
