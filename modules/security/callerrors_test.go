package security_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/netron/protocol"
	"github.com/titanframework/titan/modules/security"
)

// A call that brings a token the guard refuses is refused with an error
// that names the method, as every other refusal of a call does, and
// says what was wrong with the token, without repeating it.
func TestRefusedTokenOfACallNamesTheMethod(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"})
	expired := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-time.Hour).Unix()
	}))
	peer := dialAnonymous(t, p, addrs["tcp"])
	_, err := openVault(bearer(context.Background(), expired), peer)
	if netron.CodeOf(err) != netron.CodeUnauthenticated {
		t.Fatalf("an expired token: %v, want unauthenticated", err)
	}
	for _, want := range []string{"vault@1.0.0.open", "expired"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), expired) {
		t.Errorf("the refusal %q repeats the token", err)
	}
}

// An address refused for too many failed authentications is logged once
// with a count, as every other refusal: the wait it is told changes every
// second, the line must not.
func TestBlockedAddressLoggedOnce(t *testing.T) {
	t.Parallel()
	var out testsrv.LogBuffer
	auth := security.AuthenticatorFunc(func(context.Context, security.Credentials) (*security.Identity, error) {
		return nil, errors.New("invalid credentials")
	})
	cfg := security.DefaultConfig()
	cfg.Auth.MaxFailures = 1
	g, err := security.New(context.Background(), cfg, security.Options{
		Authenticator: auth, Log: slog.New(slog.NewTextHandler(&out, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	identify := func() error {
		_, err := g.Identify(context.Background(), netron.Credentials{Token: "guess", RemoteAddr: "203.0.113.9:4000"})
		return err
	}
	if err := identify(); netron.CodeOf(err) != netron.CodeUnauthenticated {
		t.Fatalf("the first guess: %v, want unauthenticated", err)
	}
	// Refused until the wait told changes (at the next second).
	first := identify()
	if netron.CodeOf(first) != netron.CodeResourceExhausted {
		t.Fatalf("the second guess: %v, want resource_exhausted", first)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := identify()
		if netron.CodeOf(err) != netron.CodeResourceExhausted {
			t.Fatalf("a guess while blocked: %v, want resource_exhausted", err)
		}
		if err.Error() != first.Error() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wait told stayed %q", first)
		}
	}
	g.Close() // logs the repeats
	logged := out.String()
	if n := strings.Count(logged, "msg=refused "); n != 2 { // the failure, then the refusals
		t.Fatalf("%d lines at once for one failure and the refusals that followed it, want 2:\n%s", n, logged)
	}
	if !strings.Contains(logged, "maxFailures") || !strings.Contains(logged, `msg="refused again"`) {
		t.Fatalf("the refusals are not logged as one line naming security.auth.maxFailures with a count:\n%s", logged)
	}
}

// An Authenticator that panics on some credentials (its bug, which a
// caller can trigger at will) costs the caller's address a failed
// attempt, counted as any other, and does not hold one of its attempts
// for ever: after security.auth.maxFailures such panics, later
// credentials from the address were left waiting for checks that never
// end (until their deadline, and for ever without one) instead of being
// refused, or checked once the window is over.
func TestPanickingAuthenticatorHoldsNoAttempt(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	auth := security.AuthenticatorFunc(func(_ context.Context, c security.Credentials) (*security.Identity, error) {
		if c.Username == "boom" {
			panic("the app's authenticator failed")
		}
		if c.Username == "alice" && c.Password == "secret" {
			return &security.Identity{Subject: "alice", Roles: []string{"admin"}}, nil
		}
		return nil, errors.New("invalid credentials")
	})
	addrs, _ := secureAppWith(t, s, p, []string{"tcp://127.0.0.1:0"},
		[]titan.Option{titan.Provide(func() security.Authenticator { return auth })},
		"security.auth.maxFailures=3")
	peer := dialAll(t, addrs["tcp"])[0]
	login := func(user, password string) (map[string]any, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var res map[string]any
		err := peer.Task(ctx, &res, netron.TaskAuthenticate, protocol.Object{{Key: "username", Value: user}, {Key: "password", Value: password}})
		return res, err
	}
	for range 2 {
		if _, err := login("boom", "x"); netron.CodeOf(err) != netron.CodeInternal {
			t.Fatalf("credentials the authenticator panics on: %v, want internal", err)
		}
	}
	res, err := login("alice", "secret")
	if err != nil || res["success"] != true {
		t.Fatalf("good credentials after 2 panics (maxFailures 3): %v, %v", res, err)
	}
	if _, err := login("boom", "x"); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("credentials the authenticator panics on: %v, want internal", err)
	}
	// Three failures now: the address is refused at once, not left waiting.
	res, err = login("alice", "secret")
	if err != nil || res["success"] != false || !strings.Contains(fmt.Sprint(res["error"]), "too many failed authentications") {
		t.Fatalf("good credentials after 3 panics: %v, %v, want refused for too many failures", res, err)
	}
}

// A token that the app's Authenticator panics on, brought by a call over
// nats:// (whose gateway asks the guard for the caller's identity on a
// goroutine with no recover), ends that call internal; it used to end the
// process.
func TestPanickingAuthenticatorOverNATS(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	auth := security.AuthenticatorFunc(func(_ context.Context, c security.Credentials) (*security.Identity, error) {
		if c.Token == "boom" {
			panic("the app's authenticator failed")
		}
		return nil, errors.New("invalid credentials")
	})
	natsURL := testsrv.NATS(t) + fmt.Sprintf("?prefix=authpanic%d", time.Now().UnixNano())
	addrs, _ := secureAppWith(t, s, p, []string{natsURL},
		[]titan.Option{titan.Provide(func() security.Authenticator { return auth })})
	peer := dialAnonymous(t, p, addrs["nats"])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := openVault(bearer(ctx, "boom"), peer); netron.CodeOf(err) != netron.CodeInternal {
		t.Fatalf("a token the authenticator panics on: %v, want internal", err)
	}
	if got, err := openVault(bearer(ctx, s.token(t, claims("alice", []string{"admin"}, nil))), peer); err != nil {
		t.Fatalf("a valid token after the panic: %q %v", got, err)
	}
}

// The refusals of an IPv6 client are logged, as they are counted
// (security.auth.maxFailures), by its /64 network: a client guessing
// from a new address of its network at each attempt makes one line, not
// one per address, and cannot fill the table of offenders so that
// others' refusals go unnamed.
func TestBlockedIPv6NetworkLoggedOnce(t *testing.T) {
	t.Parallel()
	var out testsrv.LogBuffer
	auth := security.AuthenticatorFunc(func(context.Context, security.Credentials) (*security.Identity, error) {
		return nil, errors.New("invalid credentials")
	})
	cfg := security.DefaultConfig()
	cfg.Auth.MaxFailures = 1
	g, err := security.New(context.Background(), cfg, security.Options{
		Authenticator: auth, Log: slog.New(slog.NewTextHandler(&out, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	identify := func(i int) error {
		_, err := g.Identify(context.Background(), netron.Credentials{Token: "guess", RemoteAddr: fmt.Sprintf("[2001:db8::%x]:4000", i)})
		return err
	}
	if err := identify(1); netron.CodeOf(err) != netron.CodeUnauthenticated {
		t.Fatalf("the first guess: %v, want unauthenticated", err)
	}
	for i := 2; i <= 50; i++ {
		if err := identify(i); netron.CodeOf(err) != netron.CodeResourceExhausted {
			t.Fatalf("guess %d from the same /64: %v, want resource_exhausted", i, err)
		}
	}
	g.Close() // logs the repeats
	logged := out.String()
	if n := strings.Count(logged, "msg=refused "); n != 2 { // the failure, then the refusals
		t.Fatalf("%d lines at once for one failure and the refusals that followed it from one /64 network, want 2:\n%s", n, logged)
	}
	if !strings.Contains(logged, "2001:db8::/64") {
		t.Fatalf("the refusals do not name the network 2001:db8::/64:\n%s", logged)
	}
}
