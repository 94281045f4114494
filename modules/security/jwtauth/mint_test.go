package jwtauth_test

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/titanframework/titan/modules/security/jwtauth"
)

// headerAlg returns the alg of token's header.
func headerAlg(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Alg string }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.Alg
}

func TestMintRoundTrip(t *testing.T) {
	t.Parallel()
	k := keys()
	tests := []struct {
		name, alg string
		cfg       func(t *testing.T) jwtauth.Config
	}{
		{"secret", "HS256", func(*testing.T) jwtauth.Config { return jwtauth.Config{Secret: secret32} }},
		{"secretFile HS512", "HS512", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{SecretFile: writeFile(t, "secret", []byte(secret64+"\n")), Algorithms: []string{"HS512"}}
		}},
		{"RSA key pair", "RS256", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.rsa), PrivateKeyFile: privateKeyFile(t, k.rsa)}
		}},
		{"RSA PS256", "PS256", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PrivateKeyFile: privateKeyFile(t, k.rsa), Algorithms: []string{"PS256"}}
		}},
		{"ECDSA", "ES256", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PrivateKeyFile: privateKeyFile(t, k.p256)}
		}},
		{"ECDSA P-521", "ES512", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PrivateKeyFile: privateKeyFile(t, k.p521)}
		}},
		{"Ed25519", "EdDSA", func(t *testing.T) jwtauth.Config {
			return jwtauth.Config{PublicKeyFile: publicKeyFile(t, k.ed), PrivateKeyFile: privateKeyFile(t, k.ed)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg(t)
			cfg.Issuer, cfg.Audience = "https://issuer.example", "orders"
			token, err := jwtauth.Mint(cfg, jwtauth.MintClaims{
				Subject:     "alice",
				Roles:       []string{"admin"},
				Permissions: []string{"orders:read"},
				TTL:         time.Hour,
				Extra:       map[string]any{"tenant": "acme", "sub": "mallory"},
			})
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			if got := headerAlg(t, token); got != tt.alg {
				t.Errorf("alg %q, want %q", got, tt.alg)
			}
			c, err := newVerifier(t, cfg).Verify(token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "alice" || c.Issuer != "https://issuer.example" || !slices.Equal(c.Audience, []string{"orders"}) {
				t.Errorf("claims %+v", c)
			}
			if !slices.Equal(c.Roles, []string{"admin"}) || !slices.Equal(c.Permissions, []string{"orders:read"}) {
				t.Errorf("roles %q permissions %q", c.Roles, c.Permissions)
			}
			if c.Raw["tenant"] != "acme" || c.ID == "" {
				t.Errorf("raw %v", c.Raw)
			}
			if d := time.Until(c.ExpiresAt); d < 59*time.Minute || d > time.Hour {
				t.Errorf("expires in %s", d)
			}
		})
	}
}

func TestMintForJWKS(t *testing.T) {
	t.Parallel()
	k := keys()
	srv := newKeyServer(t, jwks(t, jwk(t, "ec", "ES256", k.p256.Public())))
	cfg := jwtauth.Config{JWKSURL: srv.URL, PrivateKeyFile: privateKeyFile(t, k.p256)}
	token, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "alice", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newVerifier(t, cfg).Verify(token); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestMintOptions(t *testing.T) {
	t.Parallel()
	cfg := jwtauth.Config{Secret: secret32, RolesClaim: "realm_access.roles"}
	extra := map[string]any{"realm_access": map[string]any{"other": true}}
	token, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "bob", Roles: []string{"ops"}, Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := extra["realm_access"].(map[string]any)["roles"]; ok {
		t.Error("Mint changed the caller's Extra map")
	}
	v := newVerifier(t, cfg)
	c, err := v.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Roles, []string{"ops"}) || !c.ExpiresAt.IsZero() {
		t.Errorf("roles %q exp %v", c.Roles, c.ExpiresAt)
	}
	if ra := c.Raw["realm_access"].(map[string]any); ra["other"] != true {
		t.Errorf("realm_access %v", ra)
	}

	// A negative TTL makes an expired token.
	expired, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "bob", TTL: -time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(expired)
	refused(t, expired, err, jwtauth.ReasonExpired)

	// Without exp, a verifier requiring one refuses.
	strict := newVerifier(t, jwtauth.Config{Secret: secret32, RequireExpiry: true})
	_, err = strict.Verify(token)
	refused(t, token, err, jwtauth.ReasonNoExpiry)
}

func TestMintNeedsASigningKey(t *testing.T) {
	t.Parallel()
	for _, cfg := range []jwtauth.Config{
		{PublicKeyFile: publicKeyFile(t, keys().rsa)},
		{JWKSURL: "https://issuer.example/jwks"},
	} {
		_, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "x"})
		if err == nil || !strings.Contains(err.Error(), "security.jwt: minting needs secret, secretFile or privateKeyFile") {
			t.Errorf("Mint(%+v): %v", cfg, err)
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	a, err := jwtauth.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwtauth.GenerateSecret()
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Error("two secrets are equal")
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Errorf("secret %d chars decodes to %d bytes (%v)", len(a), len(raw), err)
	}
	cfg := jwtauth.Config{Secret: a}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a generated secret is invalid: %v", err)
	}
	token, err := jwtauth.Mint(cfg, jwtauth.MintClaims{Subject: "alice", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newVerifier(t, cfg).Verify(token); err != nil {
		t.Fatal(err)
	}
}
