package jwtauth_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/titanframework/titan/internal/testsrv"
	"github.com/titanframework/titan/modules/security/jwtauth"
)

var errSentinel = errors.New("sentinel")

// keyServer serves a JSON Web Key Set that a test may replace.
type keyServer struct {
	*httptest.Server
	mu      sync.Mutex
	body    []byte
	fetches atomic.Int32
}

func newKeyServer(t *testing.T, body []byte) *keyServer {
	t.Helper()
	s := &keyServer{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		body := s.body
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *keyServer) set(body []byte) {
	s.mu.Lock()
	s.body = body
	s.mu.Unlock()
}

func TestJWKSVerifiesEachKeyType(t *testing.T) {
	t.Parallel()
	k := keys()
	srv := newKeyServer(t, jwks(t,
		jwk(t, "rsa", "RS256", k.rsa.Public()),
		jwk(t, "ec", "ES256", k.p256.Public()),
		jwk(t, "ed", "", k.ed.Public()),
		jwk(t, "ps", "", k.rsa2.Public()),
	))
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL})
	for _, tc := range []struct {
		kid, alg string
		key      any
	}{
		{"rsa", "RS256", k.rsa},
		{"ec", "ES256", k.p256},
		{"ed", "EdDSA", k.ed},
		{"ps", "PS256", k.rsa2},
	} {
		token := sign(t, tc.alg, tc.key, validClaims(), map[string]any{"kid": tc.kid})
		if _, err := v.Verify(token); err != nil {
			t.Errorf("%s: %v", tc.alg, err)
		}
	}
	// Without a kid, every key of the token's algorithm is tried.
	if _, err := v.Verify(sign(t, "ES256", k.p256, validClaims(), nil)); err != nil {
		t.Errorf("no kid: %v", err)
	}
}

func TestJWKSRefuses(t *testing.T) {
	t.Parallel()
	k := keys()
	srv := newKeyServer(t, jwks(t,
		jwk(t, "rsa", "RS256", k.rsa.Public()),
		jwk(t, "ec", "", k.p256.Public()),
		jwk(t, "oct", "HS256", []byte(secret32)),
	))
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL})
	for _, tc := range []struct {
		name   string
		token  string
		reason jwtauth.Reason
	}{
		{"HS256 with a symmetric key of the set", sign(t, "HS256", []byte(secret32), validClaims(), map[string]any{"kid": "oct"}), jwtauth.ReasonAlgorithm},
		{"HS256 signed with the RSA key's PEM", sign(t, "HS256", publicPEM(t, k.rsa), validClaims(), map[string]any{"kid": "rsa"}), jwtauth.ReasonAlgorithm},
		{"alg none", sign(t, "none", jwt.UnsafeAllowNoneSignatureType, validClaims(), map[string]any{"kid": "rsa"}), jwtauth.ReasonAlgorithm},
		{"kid of a key of another type", sign(t, "RS256", k.rsa, validClaims(), map[string]any{"kid": "ec"}), jwtauth.ReasonBadSignature},
		{"kid whose JWK names another alg", sign(t, "PS256", k.rsa, validClaims(), map[string]any{"kid": "rsa"}), jwtauth.ReasonUnknownKey},
		{"wrong key for the kid", sign(t, "RS256", k.rsa2, validClaims(), map[string]any{"kid": "rsa"}), jwtauth.ReasonBadSignature},
		{"no key of the algorithm", sign(t, "EdDSA", k.ed, validClaims(), nil), jwtauth.ReasonUnknownKey},
		{"expired", sign(t, "RS256", k.rsa, with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), map[string]any{"kid": "rsa"}), jwtauth.ReasonExpired},
	} {
		_, err := v.Verify(tc.token)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		e := refused(t, tc.token, err, tc.reason)
		t.Logf("%s: %s: %s", tc.name, e.Reason, e.Message)
		// The chain ends (no cycle) and keeps the library's cause.
		if errors.Is(err, errSentinel) {
			t.Errorf("%s: unexpected sentinel", tc.name)
		}
		if tc.reason == jwtauth.ReasonUnknownKey && !errors.Is(err, keyfunc.ErrKeyfunc) && !strings.Contains(e.Message, "holds no key") {
			t.Errorf("%s: %v does not wrap keyfunc.ErrKeyfunc", tc.name, err)
		}
	}
}

func TestJWKSRotationByUnknownKeyID(t *testing.T) {
	t.Parallel()
	k := keys()
	oldKey := jwk(t, "2025", "RS256", k.rsa.Public())
	srv := newKeyServer(t, jwks(t, oldKey))
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL})
	if _, err := v.Verify(sign(t, "RS256", k.rsa, validClaims(), map[string]any{"kid": "2025"})); err != nil {
		t.Fatalf("old key: %v", err)
	}
	fetches := srv.fetches.Load()

	// The issuer rotates: a token signed with the new key arrives first.
	srv.set(jwks(t, oldKey, jwk(t, "2026", "ES256", k.p256.Public())))
	token := sign(t, "ES256", k.p256, validClaims(), map[string]any{"kid": "2026"})
	// Many requests carry it at once: one refetch serves them all.
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := v.Verify(token); err == nil {
				accepted.Add(1)
			} else {
				t.Logf("refused during the refetch: %v", err)
			}
		})
	}
	wg.Wait()
	if accepted.Load() == 0 {
		t.Fatal("the new key is not accepted after rotation")
	}
	if _, err := v.Verify(token); err != nil {
		t.Fatalf("new key after rotation: %v", err)
	}
	if got := srv.fetches.Load(); got != fetches+1 {
		t.Errorf("fetches %d, want %d: the unknown kid should refetch once", got, fetches+1)
	}
	// The key is cached now: no more fetches.
	for range 3 {
		if _, err := v.Verify(token); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.fetches.Load(); got != fetches+1 {
		t.Errorf("fetches %d after cached verifications, want %d", got, fetches+1)
	}
	// A token naming a kid nobody published is refused, without a refetch
	// storm: the refetch is rate-limited.
	bogus := sign(t, "ES256", k.p256, validClaims(), map[string]any{"kid": "nope"})
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("refusing unknown kids took %s: Verify must not wait for the rate limiter", d)
		}
	}()
	for range 3 {
		_, err := v.Verify(bogus)
		e := refused(t, bogus, err, jwtauth.ReasonUnknownKey)
		if !strings.Contains(e.Message, `token key id "nope"`) || !strings.Contains(e.Message, srv.URL) {
			t.Errorf("message %q", e.Message)
		}
	}
	if got := srv.fetches.Load(); got != fetches+1 {
		t.Errorf("fetches %d, want %d: unknown kids refetch at most once a minute", got, fetches+1)
	}
}

func TestJWKSRefreshDropsRevokedKeys(t *testing.T) {
	t.Parallel()
	k := keys()
	srv := newKeyServer(t, jwks(t, jwk(t, "a", "RS256", k.rsa.Public())))
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL, JWKSRefresh: time.Second})
	// No kid: only the periodic refetch can learn of the change.
	token := sign(t, "RS256", k.rsa, validClaims(), nil)
	if _, err := v.Verify(token); err != nil {
		t.Fatal(err)
	}
	srv.set(jwks(t, jwk(t, "b", "ES256", k.p256.Public())))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Verify(token)
		if err != nil {
			refused(t, token, err, jwtauth.ReasonUnknownKey)
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the revoked key still verifies after 10s with a 1s refresh")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestJWKSUnreachableAtStart(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(missing.Close)
	empty := newKeyServer(t, []byte(`{"keys":[]}`))
	junk := newKeyServer(t, []byte(`<html>`))
	onlyHMAC := newKeyServer(t, jwks(t, jwk(t, "oct", "HS256", []byte(secret32))))

	for _, tc := range []struct {
		url, want string
	}{
		{down.URL + "/jwks.json", "connection refused"},
		{missing.URL + "/jwks.json", "404"},
		{empty.URL, "holds no key for the accepted algorithms"},
		{onlyHMAC.URL, "holds no key for the accepted algorithms"},
		{junk.URL, "decode"},
	} {
		v, err := jwtauth.NewVerifier(t.Context(), jwtauth.Config{JWKSURL: tc.url})
		if err == nil {
			v.Close()
			t.Errorf("%s: no error", tc.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "security.jwt.jwksURL: ") || !strings.Contains(msg, tc.url) || !strings.Contains(msg, tc.want) {
			t.Errorf("error %q should name security.jwt.jwksURL, %s and %q", msg, tc.url, tc.want)
		}
		t.Log(msg)
	}
}

func TestJWKSStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := newKeyServer(t, jwks(t, jwk(t, "a", "RS256", keys().rsa.Public())))
	ctx, cancel := context.WithCancel(t.Context())
	v, err := jwtauth.NewVerifier(ctx, jwtauth.Config{JWKSURL: srv.URL, JWKSRefresh: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	// Verify still works with the keys last fetched; Close is idempotent.
	if _, err := v.Verify(sign(t, "RS256", keys().rsa, validClaims(), map[string]any{"kid": "a"})); err != nil {
		t.Errorf("after cancel: %v", err)
	}
	v.Close()
	v.Close()
	// goleak in TestMain checks that the refresh goroutine ended.
}

func TestVerifyConcurrentlyDuringRotation(t *testing.T) {
	t.Parallel()
	k := keys()
	a := jwk(t, "a", "ES256", k.p256.Public())
	srv := newKeyServer(t, jwks(t, a))
	v := newVerifier(t, jwtauth.Config{JWKSURL: srv.URL, JWKSRefresh: time.Second})
	tokenA := sign(t, "ES256", k.p256, validClaims(), map[string]any{"kid": "a"})
	tokenB := sign(t, "EdDSA", k.ed, validClaims(), map[string]any{"kid": "b"})
	hs := newVerifier(t, jwtauth.Config{Secret: secret32})
	tokenH := sign(t, "HS256", []byte(secret32), validClaims(), nil)

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				if i == 0 && j == 10 {
					srv.set(jwks(t, a, jwk(t, "b", "EdDSA", k.ed.Public())))
				}
				if _, err := v.Verify(tokenA); err != nil {
					t.Errorf("token A: %v", err)
					return
				}
				if _, err := v.Verify(tokenB); err != nil && jwtauth.ReasonOf(err) != jwtauth.ReasonUnknownKey {
					t.Errorf("token B: %v", err)
					return
				}
				if _, err := hs.Verify(tokenH); err != nil {
					t.Errorf("HS256: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestJWKSRefetchFailuresAreLogged(t *testing.T) {
	t.Parallel()
	k := keys()
	srv := newKeyServer(t, jwks(t, jwk(t, "a", "RS256", k.rsa.Public())))
	var logs testsrv.LogBuffer
	opt := jwtauth.WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(opt.String(), "WithLogger") {
		t.Errorf("option String %q", opt)
	}
	v, err := jwtauth.NewVerifier(t.Context(), jwtauth.Config{JWKSURL: srv.URL, JWKSRefresh: time.Second}, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	srv.set([]byte("not json"))
	token := sign(t, "RS256", k.rsa, validClaims(), map[string]any{"kid": "a"})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "refetching the key set failed") {
		if time.Now().After(deadline) {
			t.Fatal("no log of the failed refetch")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "url="+srv.URL) {
		t.Errorf("log lacks the URL: %s", logs.String())
	}
	// A failed refetch keeps the keys last fetched.
	if _, err := v.Verify(token); err != nil {
		t.Errorf("after a failed refetch: %v", err)
	}
}
