package security_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/titanframework/titan"
	"github.com/titanframework/titan/modules/config"
	"github.com/titanframework/titan/modules/netron"
	"github.com/titanframework/titan/modules/security"
	"github.com/titanframework/titan/titantest"
)

// An app with the security module that fails to start (a constructor
// after the guard's fails) leaves no goroutine behind: the guard starts
// nothing until it is used.
func TestFailedStartLeavesNothing(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	s := newSigner(t)
	broken := errors.New("the database is unreachable")
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{
			"logger.level=error",
			"netron.listen=tcp://127.0.0.1:0",
			"security.jwt.publicKeyFile=" + s.pubFile,
			"security.jwt.algorithms=RS256",
		}, Environ: []string{}, NoWatch: true}),
		vaultService(),
		titan.Provide(func() (*strings.Builder, error) { return nil, broken }),
		titan.Invoke(func(*strings.Builder) {}),
	)
	if err := app.Start(context.Background()); !errors.Is(err, broken) && (err == nil || !strings.Contains(err.Error(), broken.Error())) {
		t.Fatalf("start: %v, want the constructor's error", err)
	}
}

// jwksServer serves s's public key as a JSON Web Key Set and counts the
// fetches.
func jwksServer(t *testing.T, s *signer) (url string, fetches *atomic.Int64) {
	t.Helper()
	pub := &s.key.PublicKey
	b64 := base64.RawURLEncoding.EncodeToString
	body := fmt.Sprintf(`{"keys":[{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":%q,"e":%q}]}`,
		b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes()))
	fetches = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, fetches
}

// With security.jwt.jwksURL, the key set is fetched (and its refreshes
// start) when the app starts, not when it is built: an app whose start
// fails in a later constructor fetched nothing and leaves no goroutine;
// one that starts verifies tokens signed with the set's key.
func TestKeySetFetchedAtStart(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	s := newSigner(t)
	url, fetches := jwksServer(t, s)
	sets := []string{
		"logger.level=error",
		"netron.listen=tcp://127.0.0.1:0",
		"security.jwt.jwksURL=" + url,
		"security.jwt.algorithms=RS256",
		"security.jwt.issuer=" + testIssuer,
		"security.jwt.audience=" + testAudience,
	}
	broken := errors.New("the database is unreachable")
	app := titan.New(titan.WithConfig(config.Options{Sets: sets, Environ: []string{}, NoWatch: true}), vaultService(),
		titan.Provide(func() (*strings.Builder, error) { return nil, broken }),
		titan.Invoke(func(*strings.Builder) {}))
	if err := app.Start(context.Background()); err == nil || !strings.Contains(err.Error(), broken.Error()) {
		t.Fatalf("start: %v, want the constructor's error", err)
	}
	if n := fetches.Load(); n != 0 {
		t.Fatalf("the key set was fetched %d times by an app that never started", n)
	}

	var n *netron.Netron
	app = titan.New(titan.WithConfig(config.Options{Sets: sets, Environ: []string{}, NoWatch: true}), vaultService(),
		titan.Invoke(func(x *netron.Netron) { n = x }))
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(ctx)
	if fetches.Load() == 0 {
		t.Fatal("the app started without fetching the key set")
	}
	peer, err := netron.Dial(ctx, n.Addrs()[0], netron.WithBearerToken(s.token(t, claims("alice", []string{"admin"}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if got, err := openVault(ctx, peer); err != nil || got != "opened gold for alice" {
		t.Fatalf("open with a token of the key set: %q, %v", got, err)
	}
}

// A key set that cannot be had fails the start, naming the URL, and
// leaves nothing running.
func TestKeySetUnreachableAtStart(t *testing.T) {
	titantest.VerifyNoLeaks(t)
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/keys"
	srv.Close()
	app := titan.New(titan.WithConfig(config.Options{Sets: []string{
		"logger.level=error", "netron.listen=tcp://127.0.0.1:0",
		"security.jwt.jwksURL=" + url, "security.jwt.algorithms=RS256",
	}, Environ: []string{}, NoWatch: true}), vaultService())
	err := app.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "security.jwt.jwksURL") || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("start: %v, want an error naming security.jwt.jwksURL and the URL", err)
	}
}

// An app that provides a nil AuthenticatorFunc does not start: every
// password, or token that is not a JWT, would panic in it.
func TestNilAuthenticatorFuncRefused(t *testing.T) {
	app := titan.New(
		titan.WithConfig(config.Options{Sets: []string{"logger.level=error", "netron.listen=tcp://127.0.0.1:0"}, Environ: []string{}, NoWatch: true}),
		vaultService(),
		titan.Provide(func() security.Authenticator { return security.AuthenticatorFunc(nil) }),
	)
	err := app.Err()
	if err == nil {
		err = app.Start(context.Background())
		_ = app.Stop(context.Background())
	}
	if err == nil || !strings.Contains(err.Error(), "nil AuthenticatorFunc") {
		t.Fatalf("start: %v, want the nil AuthenticatorFunc refused", err)
	}
}
