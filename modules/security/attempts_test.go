package security_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

// security.auth.maxFailures holds against guesses sent at once: no more
// are checked than the failures left, the others wait and are then
// refused without being checked.
func TestMaxFailuresHoldsForParallelGuesses(t *testing.T) {
	t.Parallel()
	var checked atomic.Int64
	auth := security.AuthenticatorFunc(func(context.Context, security.Credentials) (*security.Identity, error) {
		checked.Add(1)
		time.Sleep(20 * time.Millisecond) // a password hash
		return nil, errors.New("invalid credentials")
	})
	g, err := security.New(context.Background(), security.DefaultConfig(), security.Options{Authenticator: auth}) // maxFailures 10
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var wg sync.WaitGroup
	var refused atomic.Int64
	for range 500 {
		wg.Go(func() {
			_, err := g.Identify(context.Background(), netron.Credentials{Token: "guess", RemoteAddr: "203.0.113.5:4000"})
			if netron.CodeOf(err) == netron.CodeResourceExhausted {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	if n := checked.Load(); n != 10 {
		t.Fatalf("%d of 500 parallel guesses from one address were checked, want 10 (security.auth.maxFailures)", n)
	}
	if n := refused.Load(); n != 490 {
		t.Fatalf("%d guesses refused for too many failures, want 490", n)
	}
}

// An honest burst is not refused: many requests at once from one address
// with a token not verified yet all pass, with maxFailures 1.
func TestParallelFirstUsesOfATokenPass(t *testing.T) {
	t.Parallel()
	cfg := security.DefaultConfig()
	cfg.Auth.MaxFailures = 1
	cfg.JWT = jwtauth.Config{Secret: "a secret of thirty-two bytes or more!", Algorithms: []string{"HS256"}}
	g, err := security.New(context.Background(), cfg, security.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).
		SignedString([]byte(cfg.JWT.Secret))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			ctx, err := g.Identify(context.Background(), netron.Credentials{Token: token, RemoteAddr: "203.0.113.5:4000"})
			if err == nil && security.FromContext(ctx) == nil {
				err = errors.New("no identity")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("a valid token sent 64 times at once: %v", err)
	}
}

// A token verified before keeps working from an address others' failures
// have blocked (a NAT, a proxy).
func TestVerifiedTokenPassesABlockedAddress(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.auth.maxFailures=2")
	peers := dialAll(t, addrs["tcp"], addrs["tcp"])
	good := s.token(t, claims("alice", []string{"admin"}, nil))
	if res := authenticate(t, peers[0], good); res["success"] != true {
		t.Fatalf("alice: %v", res)
	}
	for range 3 {
		authenticate(t, peers[1], "forged.token.value")
	}
	if res := authenticate(t, peers[1], s.token(t, claims("bob", []string{"admin"}, nil))); res["success"] == true {
		t.Fatal("a new token from the blocked address was checked")
	}
	if res := authenticate(t, peers[1], good); res["success"] != true {
		t.Fatalf("alice's verified token from the blocked address: %v", res)
	}
}

// Over NATS every caller is counted apart (by its Netron id), for failed
// tokens and for the rate limits of anonymous callers: one caller's
// forged tokens or calls do not lock the others out.
func TestNATSCallersCountedApart(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	natsURL := testsrv.NATS(t) + fmt.Sprintf("?prefix=apart%d", time.Now().UnixNano())
	addrs, _ := secureAppWith(t, s, p, []string{natsURL}, []titan.Option{
		titan.Service("counter", "1.0.0", func() Counter { return Counter{} }, titan.RateLimit(2, time.Minute)),
	}, "security.auth.maxFailures=10")
	ctx := context.Background()
	victim, attacker := dialAnonymous(t, p, addrs["nats"]), dialAnonymous(t, p, addrs["nats"])
	good := s.token(t, claims("alice", []string{"admin"}, nil))
	for range 11 {
		_, _ = openVault(bearer(ctx, "forged.token.value"), attacker)
	}
	if _, err := openVault(bearer(ctx, "forged.token.value"), attacker); netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("the attacker's 12th forged token: %v, want resource_exhausted", err)
	}
	if got, err := openVault(bearer(ctx, good), victim); err != nil {
		t.Fatalf("another caller's valid token after the attacker's failures: %q %v", got, err)
	}
	for range 2 {
		if _, err := attacker.Call(ctx, "counter@1.0.0", "hit"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := attacker.Call(ctx, "counter@1.0.0", "hit"); netron.CodeOf(err) != netron.CodeResourceExhausted {
		t.Fatalf("the third call in the minute: %v, want the rate limit", err)
	}
	if _, err := victim.Call(ctx, "counter@1.0.0", "hit"); err != nil {
		t.Fatalf("another anonymous caller's first call: %v", err)
	}
}

type Counter struct{}

func (Counter) Hit(context.Context) (int, error) { return 1, nil }

// A connection that authenticates again and again holds one watcher of
// its end, however its authentications alternate with failures and
// refusals (each success after one used to start another goroutine).
func TestReauthenticationHoldsOneWatcher(t *testing.T) {
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"}, "security.auth.maxConnectionsPerSubject=1")
	peers := dialAll(t, addrs["tcp"], addrs["tcp"])
	alice := s.token(t, claims("alice", []string{"admin"}, nil))
	bob := s.token(t, claims("bob", []string{"admin"}, nil))
	authenticate(t, peers[1], bob) // bob is at his cap
	authenticate(t, peers[0], alice)
	before := runtime.NumGoroutine()
	for range 500 {
		authenticate(t, peers[0], "not.a.token") // failed: anonymous
		if res := authenticate(t, peers[0], alice); res["success"] != true {
			t.Fatalf("alice: %v", res)
		}
		authenticate(t, peers[0], bob) // refused (bob's cap): anonymous
		if res := authenticate(t, peers[0], alice); res["success"] != true {
			t.Fatalf("alice: %v", res)
		}
	}
	if grew := runtime.NumGoroutine() - before; grew > 20 {
		t.Fatalf("1,000 authentications on one connection left %d more goroutines", grew)
	}
}

// A token within security.jwt.leeway of its exp is accepted, and the
// calls of the connection it authenticated are too: the guard keeps to
// the leeway the verifier allowed.
func TestTokenWithinLeeway(t *testing.T) {
	t.Parallel()
	s, p := newSigner(t), newPKI(t, "server")
	addrs, _ := secureApp(t, s, p, []string{"tcp://127.0.0.1:0"})
	peer := dialAll(t, addrs["tcp"])[0]
	tok := s.token(t, claims("alice", []string{"admin"}, func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-10 * time.Second).Unix() // leeway 30s
	}))
	if res := authenticate(t, peer, tok); res["success"] != true {
		t.Fatalf("a token 10s past its exp (leeway 30s): %v", res)
	}
	if _, err := openVault(context.Background(), peer); err != nil {
		t.Fatalf("accepted, then its call: %v", err)
	}
	if _, err := openVault(bearer(context.Background(), tok), dialAll(t, addrs["tcp"])[0]); err != nil {
		t.Fatalf("the same token with a call: %v", err)
	}
}
