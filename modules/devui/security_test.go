package devui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/devui"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/titantest"
)

// testSecret signs the tokens of the tests (HS256).
const testSecret = "a secret of the devui tests, 32 bytes at least"

// token mints a token for sub with roles.
func token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "roles": roles, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Vault is a protected service: open needs the role admin, ping is
// public.
type Vault struct{}

func (Vault) Open(ctx context.Context, name string) (string, error) {
	return "opened " + name + " for " + security.FromContext(ctx).Subject, nil
}

func (Vault) Ping(context.Context) (string, error) { return "pong", nil }

// startSecureUI starts an app with the security module on, serving
// vault@1.0.0 (protected) and calc@1.0.0 (open), with the UI on.
func startSecureUI(t *testing.T, sets ...string) (*titantest.App, string) {
	t.Helper()
	app := titantest.StartApp(t,
		titantest.WithSettings(append([]string{
			"netron.listen=http://127.0.0.1:0,tcp://127.0.0.1:0", "devui.enabled=true",
			"security.jwt.secret=" + testSecret, "security.jwt.algorithms=HS256",
		}, sets...)...),
		calcService(),
		titan.Service("vault", "1.0.0", func() Vault { return Vault{} },
			titan.Auth(titan.Roles("admin")), titan.Method("ping", titan.Public())))
	return app, app.Addr(t, "http") + devui.BasePath
}

// methodsShown returns "service.method" for each method api/services
// shows to the bearer of tok.
func methodsShown(t *testing.T, base, tok string) []string {
	t.Helper()
	a := get(t, base+"api/services", tok)
	if a.status != 200 {
		t.Fatalf("api/services: %d %s", a.status, a.body)
	}
	var services []devui.Service
	if err := json.Unmarshal(a.body, &services); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range services {
		for _, m := range s.Methods {
			out = append(out, s.Name+"."+m.Name)
		}
	}
	return out
}

// With the security module on, the UI shows and runs what the page's
// token lets its bearer call: without one it refuses the protected
// method, with a good one it calls it as its subject; what shows the
// whole app needs a token that may call everything.
func TestSecurity(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t)
	admin, reader := token(t, "alice", "admin"), token(t, "bob", "reader")

	shown := strings.Join(methodsShown(t, base, ""), " ")
	if !strings.Contains(shown, "vault.ping") || strings.Contains(shown, "vault.open") || !strings.Contains(shown, "calc.add") {
		t.Errorf("without a token the explorer shows %s, want vault.ping and calc's methods, not vault.open", shown)
	}
	if shown := strings.Join(methodsShown(t, base, admin), " "); !strings.Contains(shown, "vault.open") {
		t.Errorf("with alice's admin token the explorer shows %s, want vault.open", shown)
	}

	call(t, base, "", "vault@1.0.0", "open", "gold").wantError(t, 401, "unauthenticated")
	call(t, base, reader, "vault@1.0.0", "open", "gold").wantError(t, 403, "permission_denied", "bob")
	call(t, base, "not.a.token", "vault@1.0.0", "open", "gold").wantError(t, 401, "unauthenticated")
	a := call(t, base, admin, "vault@1.0.0", "open", "gold")
	if a.status != 200 || !strings.Contains(string(a.body), `"opened gold for alice"`) {
		t.Errorf("with alice's admin token: %d %s", a.status, a.body)
	}
	if a := call(t, base, "", "vault@1.0.0", "ping"); a.status != 200 {
		t.Errorf("the public method without a token: %d %s", a.status, a.body)
	}
	get(t, base+"api/services", "not.a.token").wantError(t, 401, "unauthenticated")

	// The peers, the metrics and the events show the whole app.
	for _, path := range []string{"api/peers", "api/metrics"} {
		get(t, base+path, "").wantError(t, 401, "unauthenticated", "token")
		get(t, base+path, reader).wantError(t, 403, "permission_denied", "vault@1.0.0.open")
		if a := get(t, base+path, admin); a.status != 200 {
			t.Errorf("%s with alice's admin token: %d %s", path, a.status, a.body)
		}
	}
	f := openFeed(t, base)
	for _, tt := range []struct{ tok, code string }{{"", "unauthenticated"}, {reader, "permission_denied"}, {"not.a.token", "unauthenticated"}} {
		f.send(map[string]any{"subscribe": "vault.>", "token": tt.tok})
		if m := f.next(); !strings.Contains(fmt.Sprint(m["error"]), tt.code) || m["pattern"] != "vault.>" {
			t.Errorf("subscribe with token %q: %v, want %s", tt.tok, m, tt.code)
		}
	}
	f.subscribe("vault.>", admin)
	if err := app.Netron().Emit(context.Background(), "vault.opened", "gold"); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "vault.opened" {
		t.Errorf("alice's feed: %v", ev)
	}
}

// titan dev's backend passes the page's token with each call: the remote
// app's security module checks it.
func TestRemoteSecurity(t *testing.T) {
	t.Parallel()
	app, _ := startSecureUI(t)
	base := remoteUI(t, titantest.Dial(t, app.Addr(t, "tcp")), app.Addr(t, "tcp"))
	call(t, base, "", "vault@1.0.0", "open", "gold").wantError(t, 401, "unauthenticated")
	a := call(t, base, token(t, "alice", "admin"), "vault@1.0.0", "open", "gold")
	if a.status != 200 || !strings.Contains(string(a.body), "for alice") {
		t.Errorf("with alice's admin token: %d %s", a.status, a.body)
	}
}

// A subscription of the event monitor is the token's: once the token has
// expired, its events are no longer sent, as every call with it is then
// refused.
func TestEventFeedStopsWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t, "security.jwt.leeway=1ms")
	exp := time.Now().Add(3 * time.Second).Truncate(time.Second)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "alice", "roles": []string{"admin"}, "exp": exp.Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	f := openFeed(t, base)
	f.subscribe("vault.>", tok)
	ctx := context.Background()
	if err := app.Netron().Emit(ctx, "vault.opened", "gold"); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "vault.opened" {
		t.Fatalf("before the token expired: %v", ev)
	}

	// Waiting for the wall clock: the token's expiry keeps to real time.
	time.Sleep(time.Until(exp.Add(100 * time.Millisecond)))
	if err := app.Netron().Emit(ctx, "vault.opened", "silver"); err != nil {
		t.Fatal(err)
	}
	// The answer to a message sent after the event comes after it, had it
	// been sent.
	f.send(map[string]any{"unsubscribe": "mark"})
	if m := f.next(); m["unsubscribed"] != "mark" {
		t.Errorf("after the token expired at %s the feed sent %v", exp.Format(time.RFC3339), m)
	}
}

// Subscribing again to a pattern the feed holds makes the subscription
// the new token's: a token that may not see the events is refused, and
// the subscription of the token before ends with it; a token that may
// takes it over, its events sent once.
func TestEventFeedSubscribeAgainChecksTheNewToken(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t)
	admin, reader := token(t, "alice", "admin"), token(t, "bob", "reader")
	ctx := context.Background()
	f := openFeed(t, base)
	// mark sends a message whose answer comes after the events emitted
	// before it, had they been sent.
	mark := func() {
		t.Helper()
		f.send(map[string]any{"unsubscribe": "mark"})
		if m := f.next(); m["unsubscribed"] != "mark" {
			t.Errorf("the feed sent %v", m)
		}
	}

	f.subscribe("vault.>", admin)
	for _, tt := range []struct{ who, tok, code string }{
		{"bob's reader token", reader, "permission_denied"},
		{"a bad token", "not.a.token", "unauthenticated"},
	} {
		f.send(map[string]any{"subscribe": "vault.>", "token": tt.tok})
		if m := f.next(); !strings.Contains(fmt.Sprint(m["error"]), tt.code) || m["pattern"] != "vault.>" {
			t.Errorf("subscribe again with %s: %v, want %s", tt.who, m, tt.code)
		}
		if err := app.Netron().Emit(ctx, "vault.opened", "gold"); err != nil {
			t.Fatal(err)
		}
		mark()
		f.subscribe("vault.>", admin)
	}

	f.subscribe("vault.>", token(t, "carol", "admin"))
	if err := app.Netron().Emit(ctx, "vault.opened", "silver"); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "vault.opened" || ev["payload"] != "silver" {
		t.Errorf("after subscribing again with carol's admin token: %v", ev)
	}
	mark()
}

// The event monitor shows the events of names the app restricts
// (security.events) only to a token that may subscribe to them: a pattern
// covers names the rules decide one by one.
func TestEventFeedFollowsEventRules(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t, `security.events=[{"topic":"orders.>","roles":["auditor"]}]`)
	admin := openFeed(t, base)
	admin.subscribe(">", token(t, "alice", "admin"))
	auditor := openFeed(t, base)
	auditor.subscribe(">", token(t, "carol", "admin", "auditor"))
	ctx := context.Background()
	for _, topic := range []string{"orders.created", "chat.message"} {
		if err := app.Netron().Emit(ctx, topic, topic); err != nil {
			t.Fatal(err)
		}
	}
	if ev, _ := admin.next()["event"].(map[string]any); ev["topic"] != "chat.message" {
		t.Errorf("an admin without the role auditor was shown %v, want chat.message only", ev)
	}
	for _, want := range []string{"orders.created", "chat.message"} {
		if ev, _ := auditor.next()["event"].(map[string]any); ev["topic"] != want {
			t.Errorf("an auditor was shown %v, want %s", ev, want)
		}
	}
}

// titan dev subscribes as its own connection: a remote app that refuses
// a subscription is not refusing the page's token, and the page says so
// rather than asking for a token it already sent.
func TestRemoteSubscriptionRefusalNamesTheConnection(t *testing.T) {
	t.Parallel()
	app, _ := startSecureUI(t, `security.events=[{"topic":"orders.>","roles":["auditor"]}]`)
	addr := app.Addr(t, "tcp")
	base := remoteUI(t, titantest.Dial(t, addr), addr)
	f := openFeed(t, base)
	f.send(map[string]any{"subscribe": "orders.created", "token": token(t, "carol", "auditor")})
	m := f.next()
	e, _ := m["error"].(map[string]any)
	if e["code"] != "unauthenticated" || m["pattern"] != "orders.created" {
		t.Fatalf("subscribe to orders.created on a remote app that refuses its connection: %v, want unauthenticated", m)
	}
	if msg := fmt.Sprint(e["message"]); !strings.Contains(msg, "--token") || !strings.Contains(msg, "the page's token goes with calls only") {
		t.Errorf("the refusal says %q; want it to say that the connection (titan dev --token) subscribes, not the page's token", msg)
	}
}

// A subscription to one event name the app's rules (security.events)
// refuse the caller is refused, as a peer's is: the page must not show it
// as made and then stay silent.
func TestEventFeedRefusesARestrictedName(t *testing.T) {
	t.Parallel()
	app, base := startSecureUI(t, `security.events=[{"topic":"orders.>","roles":["auditor"]}]`)
	f := openFeed(t, base)
	f.send(map[string]any{"subscribe": "orders.created", "token": token(t, "alice", "admin")})
	if m := f.next(); !strings.Contains(fmt.Sprint(m["error"]), "permission_denied") || m["pattern"] != "orders.created" {
		t.Errorf("an admin without the role auditor subscribing to orders.created: %v, want permission_denied", m)
	}
	f.subscribe("orders.created", token(t, "carol", "admin", "auditor"))
	if err := app.Netron().Emit(context.Background(), "orders.created", 1); err != nil {
		t.Fatal(err)
	}
	if ev, _ := f.next()["event"].(map[string]any); ev["topic"] != "orders.created" {
		t.Errorf("an auditor subscribed to orders.created was shown %v", ev)
	}
}
