package security_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/security"
)

func authenticate(t *testing.T, p *netron.Peer, token string) map[string]any {
	t.Helper()
	var res map[string]any
	if err := p.Task(context.Background(), &res, netron.TaskAuthenticate, protocol.Object{{Key: "token", Value: token}}); err != nil {
		t.Fatal(err)
	}
	return res
}

// A connection that must authenticate and does not within
// security.auth.timeout is closed; one that did stays.
func TestUnauthenticatedConnectionClosed(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.auth.required=true", "security.auth.timeout=300ms")
	ctx := context.Background()
	client, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	idle, err := client.Dial(ctx, addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	good, err := client.Dial(ctx, addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	if res := authenticate(t, good, s.token(t, claims("alice", []string{"admin"}, nil))); res["success"] != true {
		t.Fatalf("authenticate: %v", res)
	}
	time.Sleep(time.Second)
	if _, err := openVault(ctx, good); err != nil {
		t.Fatalf("the authenticated connection: %v", err)
	}
	if _, err := idle.Call(ctx, "vault@1.0.0", "ping"); err == nil {
		t.Fatal("the connection that never authenticated is still served after the timeout")
	}
}

// Where connections must authenticate, one that has not may not subscribe
// to the app's events either (it would receive them until it is closed
// for not authenticating); once it has, it may.
func TestUnauthenticatedConnectionSubscribesToNothing(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, n := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.auth.required=true", "security.auth.timeout=1m")
	ctx := context.Background()
	peer := dialAll(t, addrs["tcp"])[0]
	got := make(chan netron.Event, 1)
	handler := func(_ context.Context, e netron.Event) {
		select {
		case got <- e:
		default:
		}
	}
	_, err := peer.Subscribe(ctx, "vault.opened", handler)
	if netron.CodeOf(err) != netron.CodeUnauthenticated || !strings.Contains(err.Error(), "security.auth.required") {
		t.Fatalf("an unauthenticated connection subscribing: %v, want unauthenticated naming security.auth.required", err)
	}
	if res := authenticate(t, peer, s.token(t, claims("alice", []string{"reader"}, nil))); res["success"] != true {
		t.Fatalf("authenticate: %v", res)
	}
	if _, err := peer.Subscribe(ctx, "vault.opened", handler); err != nil {
		t.Fatalf("the authenticated connection subscribing: %v", err)
	}
	if err := n.Emit(ctx, "vault.opened", "x"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the authenticated subscriber got no event")
	}
}

// Failed authentications are limited per remote address: past
// security.auth.maxFailures, even a good token not verified before is
// refused for the rest of the minute; connections authenticated before
// are still served.
func TestFailedAuthenticationsLimited(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0", "http://127.0.0.1:0"}, "security.auth.maxFailures=3")
	ctx := context.Background()
	before := dialAll(t, addrs["tcp"])[0]
	if res := authenticate(t, before, s.token(t, claims("alice", []string{"admin"}, nil))); res["success"] != true {
		t.Fatalf("authenticate: %v", res)
	}
	attacker := dialAll(t, addrs["tcp"])[0]
	for range 3 {
		if res := authenticate(t, attacker, "not.a.token"); res["success"] != false {
			t.Fatalf("a bad token: %v", res)
		}
	}
	res := authenticate(t, attacker, s.token(t, claims("bob", []string{"admin"}, nil)))
	if msg, _ := res["error"].(string); res["success"] != false || !strings.Contains(msg, "too many failed authentications") {
		t.Fatalf("after 3 failures: %v, want refused for too many failures", res)
	}
	// Over HTTP, the same address gets 429.
	req, _ := http.NewRequest(http.MethodPost, addrs["http"]+"/netron/invoke", strings.NewReader(`{"id":"1","service":"vault@1.0.0","method":"ping","input":[]}`))
	req.Header.Set("Authorization", "Bearer "+s.token(t, claims("carol", []string{"admin"}, nil)))
	resp, err := testsrv.HTTPClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("HTTP after the failures: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if got, err := openVault(ctx, before); err != nil || got != "opened gold for alice" {
		t.Fatalf("the connection authenticated before: %q, %v", got, err)
	}
}

// Sleeper holds its calls until released.
type Sleeper struct{ release chan struct{} }

func (s *Sleeper) Hold(ctx context.Context) (bool, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return true, nil
}

// Per-subject caps: connections authenticated as one subject, and calls
// one subject runs at once.
func TestPerSubjectCaps(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	sleeper := &Sleeper{release: make(chan struct{})}
	var guard *security.Guard
	addrs, _ := secureAppWith(t, s, p, []string{"tcp://127.0.0.1:0"},
		[]titan.Option{titan.Service("sleeper", "1.0.0", func() *Sleeper { return sleeper }, titan.Auth()),
			titan.Invoke(func(g *security.Guard) { guard = g })},
		"security.auth.maxConnectionsPerSubject=2", "security.auth.maxCallsPerSubject=1")
	alice := s.token(t, claims("alice", []string{"admin"}, nil))
	peers := dialAll(t, addrs["tcp"], addrs["tcp"], addrs["tcp"])
	for i, peer := range peers {
		res := authenticate(t, peer, alice)
		if ok := res["success"] == true; ok != (i < 2) {
			t.Fatalf("connection %d of alice: %v", i+1, res)
		}
	}
	if msg, _ := authenticate(t, peers[2], alice)["error"].(string); !strings.Contains(msg, "maxConnectionsPerSubject") {
		t.Fatalf("the third connection's refusal does not name the limit: %q", msg)
	}
	// Once one of alice's connections closes, another may take its place.
	peers[1].Close()
	deadline := time.Now().Add(5 * time.Second)
	for authenticate(t, peers[2], alice)["success"] != true {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection still counts against the subject")
		}
		time.Sleep(20 * time.Millisecond)
	}

	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := peers[0].Call(ctx, "sleeper@1.0.0", "hold"); err != nil {
			t.Errorf("the first call: %v", err)
		}
	})
	// The first call runs once the guard counts it (a fixed sleep let a
	// slow first call come second, and the test then hung).
	for deadline := time.Now().Add(5 * time.Second); guard.SubjectsWithCalls() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			close(sleeper.release)
			t.Fatal("the first call of alice is not counted as running")
		}
	}
	_, err := peers[2].Call(ctx, "sleeper@1.0.0", "hold")
	close(sleeper.release)
	wg.Wait()
	if netron.CodeOf(err) != netron.CodeResourceExhausted || !strings.Contains(err.Error(), "maxCallsPerSubject") ||
		!strings.Contains(err.Error(), "sleeper@1.0.0.hold") {
		t.Fatalf("a second call of alice while one runs: %v, want resource_exhausted naming the method and the limit", err)
	}
	if _, err := peers[2].Call(ctx, "sleeper@1.0.0", "hold"); err != nil {
		t.Fatalf("after the first call ended: %v", err)
	}
	// A subject with no call running is not kept: the table holds only
	// the subjects whose calls run.
	if n := guard.SubjectsWithCalls(); n != 0 {
		t.Fatalf("no call runs, yet the guard counts calls for %d subjects", n)
	}
}

// The HTTP gateway shows a caller only what it may call: /discover, the
// OpenAPI document and definitions.
func TestHTTPShowsOnlyWhatCallerMayCall(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"http://127.0.0.1:0"})
	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, addrs["http"]+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := testsrv.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	methods := func(token string) []string {
		_, b := get("/discover", token)
		var d struct {
			Services []struct {
				Name    string   `json:"name"`
				Methods []string `json:"methods"`
			} `json:"services"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("/discover: %s", b)
		}
		for _, sv := range d.Services {
			if sv.Name == "vault" {
				return sv.Methods
			}
		}
		return nil
	}
	alice := s.token(t, claims("alice", []string{"admin"}, nil))
	bob := s.token(t, claims("bob", []string{"reader"}, nil))
	for _, c := range []struct {
		who, token string
		want       []string
	}{{"anonymous", "", []string{"ping"}}, {"bob", bob, []string{"ping"}}, {"alice", alice, []string{"open", "ping"}}} {
		if got := methods(c.token); !slices.Equal(got, c.want) {
			t.Errorf("/discover as %s: vault methods %v, want %v", c.who, got, c.want)
		}
		_, doc := get("/openapi.json", c.token)
		if has := strings.Contains(string(doc), "vault@1.0.0.open"); has != slices.Contains(c.want, "open") {
			t.Errorf("/openapi.json as %s: shows open = %v", c.who, has)
		}
		_, def := get("/netron/definition/vault@1.0.0", c.token)
		if has := strings.Contains(string(def), `"open"`); has != slices.Contains(c.want, "open") {
			t.Errorf("definition as %s: shows open = %v: %s", c.who, has, def)
		}
	}
	if code, b := get("/discover", "forged.token.value"); code != http.StatusUnauthorized || !strings.Contains(string(b), "invalid token") {
		t.Errorf("a forged token: %d %s, want 401 naming the problem", code, b)
	}
}

// The HTTP gateway's /netron/authenticate counts failures by the
// request's address too.
func TestFailedHTTPAuthenticationsLimited(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"http://127.0.0.1:0"}, "security.auth.maxFailures=2")
	authenticate := func(token string) map[string]any {
		resp, err := testsrv.HTTPClient.Post(addrs["http"]+"/netron/authenticate", "application/json",
			strings.NewReader(`{"id":"1","credentials":{"token":"`+token+`"}}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Result map[string]any `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Result
	}
	good := s.token(t, claims("alice", []string{"admin"}, nil))
	if res := authenticate(good); res["success"] != true {
		t.Fatalf("a good token: %v", res)
	}
	for range 2 {
		if res := authenticate("forged.token.value"); res["success"] != false {
			t.Fatalf("a forged token: %v", res)
		}
	}
	other := s.token(t, claims("bob", []string{"admin"}, nil))
	if msg, _ := authenticate(other)["error"].(string); !strings.Contains(msg, "too many failed authentications") {
		t.Fatalf("after 2 failures: %q, want refused for too many failures", msg)
	}
	if res := authenticate(good); res["success"] != true {
		t.Fatalf("a token verified before the failures: %v, want it to pass", res)
	}
}

// A connection that authenticated, and then failed to authenticate again
// (which leaves it anonymous), must authenticate again within
// security.auth.timeout or be closed, as a new one must: else a caller
// with one account could keep any number of anonymous connections open
// past the connection cap (security.auth.maxConnectionsPerSubject),
// served the public methods.
func TestConnectionAnonymousAgainMustAuthenticate(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.auth.required=true", "security.auth.timeout=300ms")
	ctx := context.Background()
	client, err := netron.New(netron.Config{Reconnect: netron.ReconnectConfig{Disabled: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Stop(ctx)
	peer, err := client.Dial(ctx, addrs["tcp"])
	if err != nil {
		t.Fatal(err)
	}
	if res := authenticate(t, peer, s.token(t, claims("alice", []string{"admin"}, nil))); res["success"] != true {
		t.Fatalf("authenticate: %v", res)
	}
	time.Sleep(500 * time.Millisecond) // past the timeout of a new connection
	if res := authenticate(t, peer, "not-a-token"); res["success"] != false {
		t.Fatalf("authenticate with a bad token: %v, want a failure", res)
	}
	select {
	case <-peer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection left anonymous by a failed authentication is still open 5s after, with security.auth.timeout 300ms")
	}
}
